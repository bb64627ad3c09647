#!/usr/bin/env bash
# ci/build.sh — the release builds, in one place (`make build`, `make bench`).
#
#   ci/build.sh app DEST [CARGO_ARGS...]   the shipped binary, for $ARCH, to DEST,
#                                          checked: statically linked
#   ci/build.sh fake-github DEST [--release]  the test tool, for this machine, to DEST
#
# The target is set here (`--target` below); its C compiler and linker in
# ci/zig.sh: cargo-zigbuild makes zig (`zig cc`, which carries musl's
# headers and both architectures' back ends) compile ring's C, and rust-lld
# (in every rustup toolchain) links. cargo-zigbuild and zig come from PyPI,
# pinned, in the project's venv: any Linux, or a Mac with rustup, builds
# both binaries, with no cross compiler from apt. The release profile (fat
# LTO, one codegen unit, strip) is in Cargo.toml.
# Env: ARCH (amd64 or arm64, Docker's names for the two architectures, here
# mapped to Rust's musl targets; default: this machine's); CARGO_TARGET_DIR (where
# cargo builds, default target/); CI (set: --locked, exactly Cargo.lock).
#
# Where: on this machine when it can (cargo, and the target's standard
# library or rustup to add it; Linux or macOS); otherwise inside Docker, from
# the build stage of docker/multistage/Dockerfile (ci/build-in-docker.sh),
# so that `make image` needs only make, Docker and a shell. BUILD_IN=host or
# BUILD_IN=docker decides instead. One line says which, and why.
#
# DEST is written under a temporary name, then renamed: a running DEST (make
# demo's) keeps its old file instead of failing the copy ("Text file busy").
#
# Reproducible: the same commit gives the same bytes, whoever builds it and
# wherever (checks/reproducible-test.sh). The release profile strips symbols.
# cargo names our own crates' sources by relative paths; the crates it
# downloaded live under $CARGO_HOME, a path that differs from user to user,
# and that appears in their panic locations: it is remapped to /cargo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case ${ARCH:-$(uname -m)} in
  amd64 | x86_64) arch=amd64 TARGET=x86_64-unknown-linux-musl ;;
  arm64 | aarch64) arch=arm64 TARGET=aarch64-unknown-linux-musl ;;
  *) echo "build: ARCH must be amd64 or arm64, not '$ARCH'" >&2; exit 2 ;;
esac
what=${1:?usage: ci/build.sh app|fake-github DEST [CARGO_ARGS...]}
dest=${2:?usage: ci/build.sh app|fake-github DEST [CARGO_ARGS...]}
shift 2
out=${CARGO_TARGET_DIR:-target}
locked=()
[ -n "${CI:-}" ] && locked=(--locked)

# where_to_build: "host: WHY" or "docker: WHY", for the app's $TARGET.
where_to_build() {
  if [ -n "${BUILD_IN:-}" ]; then echo "$BUILD_IN: BUILD_IN=$BUILD_IN"
  elif ! command -v cargo >/dev/null 2>&1; then echo "docker: no cargo here"
  elif ! command -v python3 >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then
    echo "docker: no python3 here for zig (ci/zig.sh)"
  elif command -v rustup >/dev/null 2>&1; then echo "host: cargo, and rustup for $TARGET ($(uname -s), zig)"
  elif [ -d "$(rustc --print sysroot)/lib/rustlib/$TARGET" ]; then echo "host: cargo, $TARGET installed ($(uname -s), zig)"
  else echo "docker: cargo, but neither rustup nor $TARGET"
  fi
}

case $what in
  app)
    where=$(where_to_build)
    echo "build: $TARGET on $where"
    tmp=$dest.tmp.$$
    trap 'rm -f "$tmp"' EXIT
    case $where in
      docker*)
        [ $# = 0 ] || { echo "build: in Docker, no extra cargo arguments ($*)" >&2; exit 2; }
        bash ci/build-in-docker.sh "$arch" "$tmp" ;;
      host*)
        bash ci/toolchain.sh "$TARGET" cargo-auditable@0.7.7
        # cargo-auditable embeds the dependency list (names, versions, a few
        # KB) for `cargo audit bin`, trivy, grype (ci/auditable-test.sh): it
        # runs $CARGO, here cargo-zigbuild (ci/zig.sh: zig compiles ring's C,
        # rust-lld links), with itself as rustc's wrapper. It is called
        # directly: `cargo auditable` would be handed CARGO=cargo.
        # An explicit --target also keeps RUSTFLAGS off build scripts and proc-macros.
        CARGO=cargo-zigbuild RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
          bash ci/zig.sh cargo-auditable auditable build ${locked[@]+"${locked[@]}"} --release -p contributors --target "$TARGET" "$@"
        mkdir -p "$(dirname "$dest")"
        cp "$out/$TARGET/release/contributors" "$tmp" && chmod 0755 "$tmp" ;;
      *) echo "build: BUILD_IN must be host or docker, not '$BUILD_IN'" >&2; exit 2 ;;
    esac
    # Static: no interpreter (ci/elf.sh reads the ELF headers; static-pie
    # counts: it is only position-independent, for address randomisation).
    info=$(bash ci/elf.sh "$tmp")
    if [ "$info" != "$arch static" ]; then
      echo "build: ERROR: $dest is '$info', not statically linked for $TARGET" >&2
      exit 1
    fi
    mv -f "$tmp" "$dest"
    echo "build: OK $dest ($(wc -c <"$dest" | tr -d ' ') bytes, $TARGET, static)"
    ;;
  fake-github)
    # A test tool, built as `cargo test` builds it (the dev profile, whose
    # dependencies `make test-rust` has compiled already). With --release
    # (the bench, where its speed shows): optimised, without fat LTO.
    profile=debug
    case " $* " in *" --release "*) profile=release ;; esac
    cargo build ${locked[@]+"${locked[@]}"} -p fake-github \
      --config profile.release.lto=false --config profile.release.codegen-units=16 "$@"
    mkdir -p "$(dirname "$dest")"
    cp "$out/$profile/fake-github" "$dest.tmp.$$" && chmod 0755 "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
    ;;
  *) echo "usage: ci/build.sh app|fake-github DEST [CARGO_ARGS...]" >&2; exit 2 ;;
esac
