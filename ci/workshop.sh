#!/usr/bin/env bash
# ci/workshop.sh STEP — the measuring behind `make workshop-1` ... `workshop-5`
# (docs/workshop.md). Each step prints a few key lines; the numbers in them
# are measured here, on this machine, every time.
#
#   context        prepare the step-1 build context (target/workshop/build-inside/)
#   build-inside   step 1: build the app inside a Debian image; its size, layer by layer
#   debian         step 2: the prebuilt binary on debian:bookworm-slim
#   busybox        step 3: the same binary on busybox
#   scratch        step 4: the same binary on nothing; the ladder of sizes
#   lessons        step 5: what scratch lacks, and how the app copes with each
#
# Uses what make already built (dist/, the images); builds only step 1's
# image. Env: IMAGE (default contributors), DIST (default dist),
# NO_CACHE=1 (step 1: docker build --no-cache, for an honest first-build time).
# Traffic: Debian's mirror (step 1's apt-get, from inside the build), and
# 127.0.0.1 and this script's own containers. Every wait is bounded, and what
# it starts it removes, however it ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${IMAGE:-contributors}
DIST=${DIST:-dist}
BIN=$DIST/contributors
WORKDIR=target/workshop
DEBIAN_BASE=debian:bookworm-slim
MUSL=x86_64-unknown-linux-musl

say() { printf '%s\n' "$*"; }
die() { printf 'workshop: ERROR: %s\n' "$*" >&2; exit 1; }
# mib BYTES: "12.34"
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
size_of() { docker image inspect -f '{{.Size}}' "$1"; }
need_image() { docker image inspect "$1" >/dev/null 2>&1 || die "image $1 is missing (run: make $2)"; }
du_bytes() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

CONTAINER_LABEL=io.contributors.workshop=1
. ci/containers.sh

# files_in IMAGE: how many files (and links) the image's layers hold,
# directories not counted: the image's own content, not what Docker adds to
# a running container (/etc/hosts, /etc/resolv.conf, ...).
files_in() {
  local d=$TMP/save.$RANDOM
  mkdir -p "$d"
  docker save "$1" | tar -xf - -C "$d"
  find "$d" -name layer.tar -print0 | xargs -0 -r -n1 tar -tvf |
    awk '$1 !~ /^d/ && $NF !~ /(^|\/)\.wh\./' | wc -l
  rm -rf "$d"
}

# has_file IMAGE PATH: is PATH (no leading /) in the image's layers?
has_file() {
  local d=$TMP/save.$RANDOM
  mkdir -p "$d"
  docker save "$1" | tar -xf - -C "$d"
  if find "$d" -name layer.tar -print0 | xargs -0 -r -n1 tar -tf | sed 's|^\./||' | grep -qx "$2"; then
    echo yes
  else
    echo no
  fi
  rm -rf "$d"
}

# base_line IMAGE BASE: the image, its base and the binary, in MiB.
base_line() {
  local img=$1 base=$2 size base_size bin
  size=$(size_of "$img")
  if [ "$base" = scratch ]; then base_size=0; else base_size=$(size_of "$base"); fi
  bin=$(stat -c %s "$BIN")
  say "image $img: $(mib "$size") MiB"
  say "  base $base: $(mib "$base_size") MiB, the binary: $(mib "$bin") MiB"
}

# ---------------------------------------------------------------- step 1

# The build context for docker/workshop/build-inside/Dockerfile:
#   rust/ (host toolchain, the parts a build needs), cargo-home/ (crates,
#   offline), src/ (the workspace sources).
prepare_context() {
  local ctx=$WORKDIR/build-inside sysroot host
  command -v rustc >/dev/null 2>&1 || die "no rustc on this machine: step 1 copies the host's Rust toolchain"
  sysroot=$(rustc --print sysroot)
  host=$(rustc -vV | sed -n 's/^host: //p')
  [ -d "$sysroot/lib/rustlib/$MUSL/lib" ] || die "the $MUSL target is not installed (rustup target add $MUSL)"
  rm -rf "$ctx"
  mkdir -p "$ctx/rust/bin" "$ctx/rust/lib/rustlib/$host" "$ctx/rust/lib/rustlib/$MUSL" "$ctx/cargo-home" "$ctx/src"

  # rust/: cargo and rustc, the compiler's shared libraries, the standard
  # library for the host (build scripts and proc-macros run there) and for
  # musl, and the linker rustc uses for the host (rust-lld behind gcc-ld).
  # Not copied: docs (share/, ~800 MB), rustdoc, clippy, rustfmt, other targets.
  # Hard links where possible: same bytes, no copy.
  cpl() { cp -al "$@" 2>/dev/null || cp -a "$@"; }
  cpl "$sysroot/bin/cargo" "$sysroot/bin/rustc" "$ctx/rust/bin/"
  cpl "$sysroot"/lib/*.so* "$ctx/rust/lib/"
  cpl "$sysroot/lib/rustlib/$host/lib" "$ctx/rust/lib/rustlib/$host/"
  if [ -d "$sysroot/lib/rustlib/$host/bin" ]; then
    mkdir -p "$ctx/rust/lib/rustlib/$host/bin"
    for f in rust-lld gcc-ld; do
      [ -e "$sysroot/lib/rustlib/$host/bin/$f" ] && cpl "$sysroot/lib/rustlib/$host/bin/$f" "$ctx/rust/lib/rustlib/$host/bin/"
    done
  fi
  cpl "$sysroot/lib/rustlib/$MUSL/lib" "$ctx/rust/lib/rustlib/$MUSL/"

  # src/: the workspace manifest, lock file and member crates, nothing else
  # (a docs edit does not invalidate the build layer).
  local members f
  read -r -a members < <(sed -n 's/^members *= *\[\(.*\)\]/\1/p' Cargo.toml | tr -d '",')
  [ ${#members[@]} -gt 0 ] || die "no 'members = [...]' line in Cargo.toml"
  cp -p Cargo.toml Cargo.lock "$ctx/src/"
  while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue
    mkdir -p "$ctx/src/$(dirname "$f")"
    cp -p "$f" "$ctx/src/$f"
  done < <(git ls-files -z --cached --others --exclude-standard -- "${members[@]}")

  # cargo-home/: the crates, with no network. `cargo vendor` first: it
  # needs every package of Cargo.lock in cargo's cache, for every platform
  # (the macOS and Windows ones too). An offline machine that only ever built
  # for Linux lacks those; then copy cargo's own cache instead (the index
  # entries and the .crate files of the packages in Cargo.lock): in the
  # image, `cargo build --offline` finds them exactly as it does here.
  if (cd "$ctx/src" && timeout 300 cargo vendor --offline --locked vendor >"$TMP/vendor.out" 2>"$TMP/vendor.err"); then
    cat >"$ctx/cargo-home/config.toml" <<'EOF'
# Written by ci/workshop.sh: crates come from /src/vendor (cargo vendor).
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "/src/vendor"
EOF
    CRATES_HOW="cargo vendor"
    CRATES_BYTES=$(du_bytes "$ctx/src/vendor")
  else
    rm -rf "$ctx/src/vendor"
    local home=${CARGO_HOME:-$HOME/.cargo} idx n=0 name version
    idx=$(cd "$home/registry/index" 2>/dev/null && ls -d index.crates.io-* 2>/dev/null | head -n1 || true)
    [ -n "$idx" ] || { cat "$TMP/vendor.err" >&2; die "cargo vendor failed and cargo's cache ($home/registry) has no crates.io index to copy"; }
    mkdir -p "$ctx/cargo-home/registry/index" "$ctx/cargo-home/registry/cache/$idx"
    cpl "$home/registry/index/$idx" "$ctx/cargo-home/registry/index/"
    while read -r name version; do
      if [ -f "$home/registry/cache/$idx/$name-$version.crate" ]; then
        cpl "$home/registry/cache/$idx/$name-$version.crate" "$ctx/cargo-home/registry/cache/$idx/"
        n=$((n + 1))
      fi
    done < <(awk '/^\[\[package\]\]/ { n = v = s = "" }
                  /^name = / { n = $3 } /^version = / { v = $3 }
                  /^source = "registry\+/ { gsub(/"/, "", n); gsub(/"/, "", v); print n, v }' Cargo.lock)
    CRATES_HOW="cargo vendor cannot run offline here ($(grep -m1 -o 'failed to download `[^`]*`' "$TMP/vendor.err" || echo 'see target/workshop/vendor.err')); cargo's own cache instead: $n crates"
    cp "$TMP/vendor.err" "$WORKDIR/vendor.err"
    CRATES_BYTES=$(du_bytes "$ctx/cargo-home")
  fi
  say "context: Rust toolchain $(mib "$(du_bytes "$ctx/rust")") MiB, crates $(mib "$CRATES_BYTES") MiB, sources $(mib "$(du_bytes "$ctx/src" --exclude=vendor)") MiB"
  say "context: crates by $CRATES_HOW"
}

step_build_inside() {
  local img=$IMAGE:build-inside t0 secs size bin log=$WORKDIR/build-inside.log
  mkdir -p "$WORKDIR"
  docker image inspect "$DEBIAN_BASE" >/dev/null 2>&1 || BASE_IMAGES=debian bash ci/base-images.sh
  prepare_context
  say "building $img from docker/workshop/build-inside/Dockerfile (minutes; log: $log)"
  t0=$(date +%s)
  if ! timeout 3600 docker build ${NO_CACHE:+--no-cache} -f docker/workshop/build-inside/Dockerfile \
      -t "$img" "$WORKDIR/build-inside" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "docker build failed after $(($(date +%s) - t0)) s (log: $log)"
  fi
  secs=$(($(date +%s) - t0))
  # A rebuild leaves the previous image untagged: over a GB each; drop ours.
  docker image prune -f --filter label=org.opencontainers.image.title=contributors >/dev/null 2>&1 || true
  cached=$(grep -Ec 'Using cache|CACHED' "$log" || true)
  if [ "${cached:-0}" -gt 0 ]; then
    say "build inside the image: $secs s ($cached steps from Docker's build cache; NO_CACHE=1 rebuilds all)"
  else
    say "build inside the image: $secs s"
  fi
  size=$(size_of "$img")
  say "image $img: $(mib "$size") MiB"
  # Where the bytes are: the layers, from docker history, by what made them.
  docker history --no-trunc --human=false --format '{{.Size}}|{{.CreatedBy}}' "$img" >"$TMP/history"
  local base apt rust crates src build
  base=$(size_of "$DEBIAN_BASE")
  sum() { awk -F'|' -v re="$1" '$2 ~ re { s += $1 } END { print s + 0 }' "$TMP/history"; }
  apt=$(sum 'apt-get install')
  rust=$(sum 'COPY.*/usr/local/rust')
  crates=$(sum 'COPY.*/usr/local/cargo')
  src=$(sum 'COPY.* /src/? *($|#)')
  build=$(sum 'cargo build')
  say "  base $DEBIAN_BASE: $(mib "$base") MiB"
  say "  C toolchain (apt-get install gcc libc6-dev musl-tools): $(mib "$apt") MiB"
  say "  Rust toolchain: $(mib "$rust") MiB"
  say "  crates and sources: $(mib $((crates + src))) MiB"
  say "  cargo build (target/ and the binary): $(mib "$build") MiB"
  bin=$(docker run --rm --entrypoint "" "$img" stat -c %s /contributors)
  say "the binary inside: $(mib "$bin") MiB"
  say "the image is $(awk -v i="$size" -v b="$bin" 'BEGIN { printf "%d", i / b }') times the size of the binary it runs"
  say "it runs: $(docker run --rm "$img" --version)"
}

# ---------------------------------------------------------------- steps 2-4

step_debian() {
  local img=$IMAGE:debian
  need_image "$img" image-debian
  base_line "$img" "$DEBIAN_BASE"
  say "files in the image: $(files_in "$img")"
  say "packages in the image: $(docker run --rm --entrypoint /usr/bin/dpkg-query "$img" -W -f '.\n' | wc -l) (dpkg)"
  say "shell: /bin/sh is $(docker run --rm --entrypoint /bin/sh "$img" -c 'readlink -f /bin/sh'), and bash is $(docker run --rm --entrypoint /bin/sh "$img" -c 'command -v bash || echo missing')"
}

step_busybox() {
  local img=$IMAGE:busybox base
  need_image "$img" image-busybox
  base=$(sed -n 's/^FROM //p' docker/busybox/Dockerfile | head -n1)
  base_line "$img" "$base"
  say "files in the image: $(files_in "$img")"
  say "shell: /bin/sh is busybox, one binary with $(docker run --rm --entrypoint /bin/busybox "$img" --list | wc -l) commands"
}

step_scratch() {
  local img=$IMAGE:scratch rc v
  need_image "$img" image-scratch
  base_line "$img" scratch
  say "files in the image: $(files_in "$img")"
  rc=0
  docker run --rm --entrypoint /bin/sh "$img" -c true >/dev/null 2>&1 || rc=$?
  say "shell: none: docker run --entrypoint /bin/sh: exit $rc"
  say "the ladder:"
  docker image inspect "$IMAGE:build-inside" >/dev/null 2>&1 &&
    say "  $IMAGE:build-inside $(mib "$(size_of "$IMAGE:build-inside")") MiB (step 1)"
  for v in debian busybox scratch; do
    docker image inspect "$IMAGE:$v" >/dev/null 2>&1 && say "  $IMAGE:$v $(mib "$(size_of "$IMAGE:$v")") MiB"
  done
  return 0
}

# ---------------------------------------------------------------- step 5

wait_healthcheck() {  # wait_healthcheck CONTAINER: exit code of the in-container check, ~10 s max
  local rc=1 _
  for _ in $(seq 1 50); do
    rc=0; docker exec "$1" /contributors healthcheck >/dev/null 2>&1 || rc=$?
    [ "$rc" = 0 ] && break
    sleep 0.2
  done
  echo "$rc"
}

# stop_time CONTAINER: "<seconds> s, exit <code>" for docker stop -t 3.
stop_time() {
  local t0 ms code
  t0=$(date +%s%N)
  docker stop -t 3 "$1" >/dev/null 2>&1 || true
  ms=$((($(date +%s%N) - t0) / 1000000))
  code=$(docker inspect -f '{{.State.ExitCode}}' "$1")
  awk -v ms="$ms" -v c="$code" 'BEGIN { printf "%.1f s, exit %s", ms / 1000, c }'
}

step_lessons() {
  local img=$IMAGE:scratch sr=$IMAGE:scratch-system-roots out rc pid ids doctor line c
  need_image "$img" image-scratch
  need_image "$IMAGE:busybox" image-busybox
  need_image "$sr" image-scratch-system-roots
  [ -x "$DIST/fake-github" ] || die "$DIST/fake-github is missing (run: make build)"
  local tag=$$
  # Started first: Docker's first health probe comes one --interval (10 s) in.
  start "workshop-health-$tag" "$img"
  local health_t0; health_t0=$(date +%s)

  # -- users
  start "workshop-user-$tag" "$img"
  pid=$(docker inspect -f '{{.State.Pid}}' "workshop-user-$tag")
  ids=$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { printf "uid %s, gid %s", u, g }' "/proc/$pid/status" 2>/dev/null || echo "uid ?, gid ?")
  say "users: the process runs as $ids (USER $(docker image inspect -f '{{.Config.User}}' "$img"), by number); /etc/passwd in the image: $(has_file "$img" etc/passwd)"
  rc=0; out=$(docker run --rm --user nobody "$img" --version 2>&1) || rc=$?
  say "users: docker run --user nobody: exit $rc: $(grep -m1 -o 'unable to find user.*' <<<"$out" || head -n1 <<<"$out")"
  docker rm -f "workshop-user-$tag" >/dev/null 2>&1 || true

  # -- /tmp
  start "workshop-ro-$tag" --read-only --cap-drop ALL --security-opt no-new-privileges "$img"
  say "tmp: /tmp in the image: $(has_file "$img" tmp/); --read-only --cap-drop ALL: healthcheck exit $(wait_healthcheck "workshop-ro-$tag")"
  docker rm -f "workshop-ro-$tag" >/dev/null 2>&1 || true

  # -- CA certificates
  rc=0; out=$(timeout 60 docker run --rm "$sr" 2>&1) || rc=$?
  say "certs: $sr (trusts the OS store): exit $rc: $(grep -m1 -o 'failed to load system roots.*' <<<"$out" || tail -n1 <<<"$out")"
  doctor=$(timeout 60 docker run --rm "$img" doctor --offline 2>&1 || true)
  say "certs: $img (bundled roots): doctor --offline says: $(awk '$2 == "roots" { $1 = $1; print; exit }' <<<"$doctor")"

  # -- libc and DNS
  line=$(file -L "$BIN" 2>/dev/null || true)
  say "libc: $BIN is $(grep -Eo 'static-pie linked|statically linked|dynamically linked' <<<"$line" || echo unknown), interpreter: $(grep -Eo 'interpreter [^,]*' <<<"$line" | sed 's/^interpreter //' || echo none)"
  say "dns: doctor says: $(awk '$2 == "dns" { $1 = $1; print; exit }' <<<"$doctor")"
  # Name resolution and TLS for real, all on this machine: a fake GitHub on
  # 127.0.0.1, reached as "localhost" (Docker's /etc/hosts), trusted through
  # CONTRIBUTORS_EXTRA_CA_FILE (its throwaway CA).
  if start_fake 120; then
    out=$(timeout 60 docker run --rm --network host -v "$TMP/ca.pem:/ca.pem:ro" \
      -e CONTRIBUTORS_EXTRA_CA_FILE=/ca.pem -e "GITHUB_API_URL=https://localhost:${FAKE_URL##*:}" \
      "$img" doctor 2>&1 || true)
    say "dns: doctor in scratch: $(awk '$2 == "resolve" { $1 = $1; print; exit }' <<<"$out")"
    say "tls: doctor in scratch: $(awk '$2 == "tls" { $1 = $1; print; exit }' <<<"$out")"
  else
    say "dns: the fake GitHub did not start: $(cat "$TMP/fake.out" "$TMP/fake.err")"
  fi

  # -- PID 1 and signals
  start "workshop-pid1-$tag" "$img"
  wait_healthcheck "workshop-pid1-$tag" >/dev/null
  say "pid 1: docker stop, the app is PID 1 ($img): $(stop_time "workshop-pid1-$tag")"
  # The same binary behind a shell that stays PID 1 (shell form, or a wrapper
  # script): sh ignores SIGTERM as PID 1 and does not pass it on.
  start "workshop-sh-$tag" --entrypoint /bin/sh "$IMAGE:busybox" -c '/contributors; exit $?'
  wait_healthcheck "workshop-sh-$tag" >/dev/null
  say "pid 1: docker stop, sh is PID 1 ($IMAGE:busybox, sh -c): $(stop_time "workshop-sh-$tag") (killed when -t 3 ran out)"

  # -- health checks without a shell
  local status=""
  while :; do
    status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "workshop-health-$tag" 2>/dev/null || true)
    [ "$status" = healthy ] && break
    [ $(($(date +%s) - health_t0)) -ge 40 ] && break
    sleep 1
  done
  say "health: $img is ${status:-unknown} after $(($(date +%s) - health_t0)) s; the check: $(docker image inspect -f '{{join .Config.Healthcheck.Test " "}}' "$img")"
  say "more: make doctor shows the doctor report of all three images side by side"
}

case "${1:-}" in
  context) mkdir -p "$WORKDIR"; prepare_context ;;
  1 | build-inside) step_build_inside ;;
  2 | debian) step_debian ;;
  3 | busybox) step_busybox ;;
  4 | scratch) step_scratch ;;
  5 | lessons) step_lessons ;;
  *) echo "usage: ci/workshop.sh context|build-inside|debian|busybox|scratch|lessons" >&2; exit 2 ;;
esac
