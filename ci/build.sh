#!/usr/bin/env bash
# ci/build.sh — the release builds, in one place (`make build`, `make bench`).
#
#   ci/build.sh app DEST [CARGO_ARGS...]   the shipped binary, for $ARCH, to DEST,
#                                          checked: statically linked
#   ci/build.sh fake-github DEST [--release]  the test tool, for this machine, to DEST
#
# The target's C compiler and linker are set in .cargo/config.toml; the
# release profile (fat LTO, one codegen unit, strip) in Cargo.toml.
# Env: ARCH (amd64 or arm64, Docker's names for the two architectures, here
# mapped to Rust's musl targets; default: this machine's); CARGO_TARGET_DIR (where
# cargo builds, default target/); CI (set: --locked, exactly Cargo.lock).
#
# Reproducible: the same commit gives the same bytes, whoever builds it and
# wherever (checks/reproducible-test.sh). The release profile strips symbols.
# cargo names our own crates' sources by relative paths; the crates it
# downloaded live under $CARGO_HOME, a path that differs from user to user,
# and that appears in their panic locations: it is remapped to /cargo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case ${ARCH:-$(uname -m)} in
  amd64 | x86_64) TARGET=x86_64-unknown-linux-musl ;;
  arm64 | aarch64) TARGET=aarch64-unknown-linux-musl ;;
  *) echo "build: ARCH must be amd64 or arm64, not '$ARCH'" >&2; exit 2 ;;
esac
what=${1:?usage: ci/build.sh app|fake-github DEST [CARGO_ARGS...]}
dest=${2:?usage: ci/build.sh app|fake-github DEST [CARGO_ARGS...]}
shift 2
out=${CARGO_TARGET_DIR:-target}
locked=()
[ -n "${CI:-}" ] && locked=(--locked)

case $what in
  app)
    case $TARGET in
      x86_64-*-musl) bash ci/ensure-packages.sh file:file musl-gcc:musl-tools ;;
      # ring's C includes the C library's headers: the cross compiler only
      # recommends them, so they are named here.
      aarch64-*-musl) bash ci/ensure-packages.sh file:file aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
        /usr/aarch64-linux-gnu/include/stdint.h:libc6-dev-arm64-cross ;;
    esac
    bash ci/toolchain.sh "$TARGET"
    # An explicit --target also keeps RUSTFLAGS off build scripts and proc-macros.
    RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
      cargo build "${locked[@]}" --release -p contributors --target "$TARGET" "$@"
    install -D -m 0755 "$out/$TARGET/release/contributors" "$dest"
    # Static: no interpreter, no shared libraries. static-pie counts (it is
    # only position-independent, for address randomisation).
    info=$(file -L "$dest")
    echo "build: $info"
    if ! grep -Eq 'statically linked|static-pie linked' <<<"$info" || grep -q interpreter <<<"$info"; then
      echo "build: ERROR: $dest is not statically linked" >&2
      exit 1
    fi
    echo "build: OK $dest ($(stat -c %s "$dest") bytes, $TARGET)"
    ;;
  fake-github)
    # A test tool, built as `cargo test` builds it (the dev profile, whose
    # dependencies `make test-rust` has compiled already). With --release
    # (the bench, where its speed shows): optimised, without fat LTO.
    profile=debug
    case " $* " in *" --release "*) profile=release ;; esac
    cargo build "${locked[@]}" -p fake-github \
      --config profile.release.lto=false --config profile.release.codegen-units=16 "$@"
    install -D -m 0755 "$out/$profile/fake-github" "$dest"
    ;;
  *) echo "usage: ci/build.sh app|fake-github DEST [CARGO_ARGS...]" >&2; exit 2 ;;
esac
