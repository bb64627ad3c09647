#!/usr/bin/env bash
# workshop/workshop.sh STEP — the measuring behind `make workshop-1` ... `workshop-6`
# (docs/workshop.md). Each step prints a few key lines; the numbers in them
# are measured here, on this machine, every time.
#
#   context        prepare the build context of steps 1 and 2 (target/workshop/build-inside/)
#   build-inside   step 1: build the app inside a FROM rust image; its size, layer by layer
#   multistage     step 2: the same build in a first stage, the binary alone FROM scratch
#   debian         step 3: the prebuilt binary on debian:bookworm-slim
#   busybox        step 4: the same binary on busybox
#   scratch        step 5: the same binary on nothing; the ladder of sizes
#   lessons        step 6: what scratch lacks, and how the app copes with each
#   doctor ARGS    `make doctor`: `contributors doctor` in the three images, side by side
#
# Uses what make already built (dist/, the images); builds only the images
# of steps 1 and 2. Env: IMAGE (default contributors), DIST (default dist),
# NO_CACHE=1 (steps 1, 2: docker build --no-cache, for an honest first-build time).
# Traffic: steps 1 and 2 build from the rust image and fetches Debian packages and
# crates from inside the build (as any user's build would); otherwise
# 127.0.0.1 and this script's own containers. Every wait is bounded, and what
# it starts it removes, however it ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${IMAGE:-contributors}
DIST=${DIST:-dist}
BIN=$DIST/contributors
WORKDIR=target/workshop
DEBIAN_BASE=debian:bookworm-slim

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

# The build context of steps 1 and 2: the workspace as a user would have it
# (ci/source-context.sh, shared with `make image`'s build in Docker).
prepare_context() {
  local ctx=$WORKDIR/build-inside
  bash ci/source-context.sh "$ctx"
  say "context: sources $(mib "$(du_bytes "$ctx")") MiB"
}

step_build_inside() {
  local img=$IMAGE:build-inside t0 secs size bin log=$WORKDIR/build-inside.log rust_base
  mkdir -p "$WORKDIR"
  rust_base=$(sed -n 's/^FROM //p' workshop/Dockerfile | head -n1)
  bash workshop/rust-stand-in.sh "$rust_base"
  prepare_context
  say "building $img from workshop/Dockerfile (minutes; log: $log)"
  t0=$(date +%s)
  if ! timeout 3600 docker build ${NO_CACHE:+--no-cache} -f workshop/Dockerfile \
      --label "io.contributors.image=$IMAGE" -t "$img" "$WORKDIR/build-inside" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "docker build failed after $(($(date +%s) - t0)) s (log: $log)"
  fi
  secs=$(($(date +%s) - t0))
  # A rebuild leaves the previous image untagged: over a GB each; drop this
  # IMAGE's (the label says whose), no one else's.
  docker image prune -f --filter "label=io.contributors.image=$IMAGE" >/dev/null 2>&1 || true
  cached=$(grep -Ec 'Using cache|CACHED' "$log" || true)
  if [ "${cached:-0}" -gt 0 ]; then
    say "build inside the image: $secs s ($cached steps from Docker's build cache; NO_CACHE=1 rebuilds all)"
  else
    say "build inside the image: $secs s"
  fi
  size=$(size_of "$img")
  say "image $img: $(mib "$size") MiB"
  # Where the bytes are: the layers this Dockerfile added (docker history,
  # newest first, minus the base's own layers), by what made them.
  local apt src build ours
  ours=$(($(docker history -q "$img" | wc -l) - $(docker history -q "$rust_base" | wc -l)))
  docker history --no-trunc --human=false --format '{{.Size}}|{{.CreatedBy}}' "$img" |
    head -n "$ours" >"$TMP/history"
  sum() { awk -F'|' -v re="$1" '$2 ~ re { s += $1 } END { print s + 0 }' "$TMP/history"; }
  apt=$(sum 'apt-get install')
  src=$(sum 'COPY .* in \.')
  build=$(sum 'cargo build')
  say "  base $rust_base (Debian, C and Rust toolchains): $(mib "$(size_of "$rust_base")") MiB"
  say "  apt-get install musl-tools, rustup target add: $(mib "$apt") MiB"
  say "  sources: $(mib "$src") MiB"
  say "  cargo build (crates, target/ and the binary): $(mib "$build") MiB"
  bin=$(docker run --rm --entrypoint "" "$img" stat -c %s /contributors)
  say "the binary inside: $(mib "$bin") MiB"
  say "the image is $(awk -v i="$size" -v b="$bin" 'BEGIN { printf "%d", i / b }') times the size of the binary it runs"
  say "it runs: $(docker run --rm "$img" --version)"
}

# ---------------------------------------------------------------- step 2

# The Dockerfile's first stage is step 1's build; only the last stage, FROM
# scratch with the binary copied out of the first, is the image.
step_multistage() {
  local img=$IMAGE:multistage file=docker/multistage/Dockerfile log=$WORKDIR/multistage.log t0 secs rust_base
  mkdir -p "$WORKDIR"
  rust_base=$(sed -n 's/^FROM \([^ ]*\) AS build$/\1/p' "$file")
  need_image "$IMAGE:scratch" image-scratch
  bash workshop/rust-stand-in.sh "$rust_base"
  prepare_context
  say "building $img from $file (minutes; log: $log)"
  t0=$(date +%s)
  if ! timeout 3600 docker build ${NO_CACHE:+--no-cache} -f "$file" --label "io.contributors.image=$IMAGE" \
      -t "$img" "$WORKDIR/build-inside" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "docker build failed after $(($(date +%s) - t0)) s (log: $log)"
  fi
  secs=$(($(date +%s) - t0))
  cached=$(grep -Ec 'Using cache|CACHED' "$log" || true)
  if [ "${cached:-0}" -gt 0 ]; then
    say "build in two stages: $secs s ($cached steps from Docker's build cache; NO_CACHE=1 rebuilds all)"
  else
    say "build in two stages: $secs s"
  fi
  say "image $img: $(mib "$(size_of "$img")") MiB, files in the image: $(files_in "$img")"
  say "  the build stage ($rust_base, crates, target/) stays behind: only the last stage ships"
  say "the CI-artifact path, $IMAGE:scratch: $(mib "$(size_of "$IMAGE:scratch")") MiB"
  docker image inspect "$IMAGE:build-inside" >/dev/null 2>&1 &&
    say "step 1's single stage, $IMAGE:build-inside: $(mib "$(size_of "$IMAGE:build-inside")") MiB"
  say "it runs: $(docker run --rm "$img" --version)"
}

# ---------------------------------------------------------------- steps 3-5

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
  docker image inspect "$IMAGE:multistage" >/dev/null 2>&1 &&
    say "  $IMAGE:multistage $(mib "$(size_of "$IMAGE:multistage")") MiB (step 2)"
  for v in debian busybox scratch; do
    docker image inspect "$IMAGE:$v" >/dev/null 2>&1 && say "  $IMAGE:$v $(mib "$(size_of "$IMAGE:$v")") MiB"
  done
  return 0
}

# ---------------------------------------------------------------- step 6

# wait_healthcheck CONTAINER: exit code of the in-container check, ~10 s max.
wait_healthcheck() {
  local rc=0
  retry 50 0.2 docker exec "$1" /contributors healthcheck >/dev/null 2>&1 || rc=$?
  echo "$rc"
}

# stop_time CONTAINER: "<seconds> s, exit <code>" for docker stop -t 3.
stop_time() {
  stop_timed "$1" 3
  awk -v ms="$STOP_MS" -v c="$STOP_CODE" 'BEGIN { printf "%.1f s, exit %s", ms / 1000, c }'
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
  wait_healthy "workshop-health-$tag" "$health_t0" 40 || true
  say "health: $img is ${HEALTH:-unknown} after $HEALTH_SECS s; the check: $(docker image inspect -f '{{join .Config.Healthcheck.Test " "}}' "$img")"
  say "more: make doctor shows the doctor report of all three images side by side"
}

# ---------------------------------------------------------------- make doctor

# step_doctor ARGS...: `contributors doctor ARGS` in each image; a matrix of
# the checks first (one row each, one column per image), then the reports.
step_doctor() {
  local v name
  for v in scratch busybox debian; do
    need_image "$IMAGE:$v" images
    docker run --rm "$IMAGE:$v" doctor "$@" >"$TMP/doctor.$v" 2>&1 || true
  done
  printf '%-9s %-8s %-8s %-8s\n' check scratch busybox debian
  awk 'NF >= 2 && $1 ~ /^(ok|note|FAIL)$/ { print $2 }' "$TMP/doctor.scratch" | while read -r name; do
    printf '%-9s' "$name"
    for v in scratch busybox debian; do
      printf ' %-8s' "$(awk -v n="$name" '$2 == n { print $1; exit }' "$TMP/doctor.$v")"
    done
    echo
  done
  for v in scratch busybox debian; do echo; echo "== $IMAGE:$v"; cat "$TMP/doctor.$v"; done
}

case "${1:-}" in
  context) mkdir -p "$WORKDIR"; prepare_context ;;
  doctor) shift; step_doctor "$@" ;;
  1 | build-inside) step_build_inside ;;
  2 | multistage) step_multistage ;;
  3 | debian) step_debian ;;
  4 | busybox) step_busybox ;;
  5 | scratch) step_scratch ;;
  6 | lessons) step_lessons ;;
  *) echo "usage: workshop/workshop.sh context|build-inside|multistage|debian|busybox|scratch|lessons|doctor [ARGS]" >&2; exit 2 ;;
esac
