#!/usr/bin/env bash
# ci/container-tests.sh — black-box tests of the three images.
#
# Uses what `make build images` already made (dist/contributors,
# dist/fake-github, $IMAGE:scratch|busybox|debian); builds nothing itself.
# For each image it checks, one `ok - ...` / `not ok - ...` line per check:
#   - it serves / and /healthz on the port `docker run -P` maps;
#   - it talks TLS to a (fake, local) GitHub API trusted via an extra CA file,
#     renders the contributors page and proxies an avatar: the static binary's
#     TLS client works in every base, scratch included;
#   - its process runs as uid/gid 65534, not root;
#   - it works --read-only, with --cap-drop ALL and no-new-privileges;
#   - Docker's HEALTHCHECK (the binary's own `healthcheck`) reports healthy;
#   - `docker stop` takes < 5 s and the exit code is 0 (SIGTERM handled as PID 1);
#   - scratch: the container's file system is the binary plus what Docker adds;
#   - size ceilings: scratch <= 2 MiB (2,097,152 bytes, the binary's target:
#     the scratch image is that one file), busybox <= 8 MiB;
#   - the system-roots build (the CA lesson) fails clearly in scratch.
# With ARCH=arm64 (or amd64), the same checks run against that architecture's
# images, $IMAGE:VARIANT-ARCH, with `docker run --platform linux/ARCH`: on
# another machine's architecture under qemu (ci/qemu.sh), slower but bounded
# by the same limits; skipped, saying why, where qemu cannot be registered.
# ARCH=both: this machine's images and the arm64 ones at the same time (two
# runs of this script, arm64's output shown after the other's): the
# emulated run mostly computes, the native one mostly waits on containers.
# Ends with the line `N passed, M failed`; exits 1 if any failed.
# Traffic goes only to 127.0.0.1 and the containers started here; everything
# started here is removed on exit, however the script ends.
#
# Env: IMAGE (default contributors), DIST (default dist), ARCH (default:
#      the unsuffixed tags, this machine's), VARIANTS (default "scratch busybox debian"),
#      SKIP_CONTAINER_TESTS=1 to skip (exit 0) instead of running.
set -euo pipefail

if [ "${ARCH:-}" = both ]; then
  other=$(mktemp)
  ARCH=arm64 bash "${BASH_SOURCE[0]}" >"$other" 2>&1 & pid=$!
  status=0
  ARCH='' bash "${BASH_SOURCE[0]}" || status=$?
  wait "$pid" || status=$?
  cat "$other"; rm -f "$other"
  exit "$status"
fi

IMAGE=${IMAGE:-contributors}
DIST=${DIST:-dist}
VARIANTS=${VARIANTS:-scratch busybox debian}
RUN=${IMAGE##*/}-test${ARCH:+-$ARCH}      # container names: IMAGE-test[-ARCH]-VARIANT-...
SUFFIX=${ARCH:+-$ARCH}                    # image tags: IMAGE:VARIANT[-ARCH]
PLATFORM=()
[ -z "${ARCH:-}" ] || PLATFORM=(--platform "linux/$ARCH")
STOP_LIMIT_MS=5000
HEALTH_LIMIT_S=30
MiB=1048576
# scratch: the project's size target for the binary, its only file (README,
# BENCHMARKS.md section 10), for amd64 and arm64 alike (arm64 is smaller).
declare -A SIZE_LIMIT=([scratch]=$((2 * MiB)) [busybox]=$((8 * MiB)))
declare -A SIZE_TARGET=([scratch]="the binary's size target")

# What `docker export` of a FROM scratch container holds: our one file, plus
# the mount points and files Docker's init layer adds to every container.
# (Measured on Docker Engine 20.10; the same set moby has created for years.)
EXPECTED_SCRATCH_FILES='.dockerenv
contributors
dev/
dev/console
dev/pts/
dev/shm/
etc/
etc/hostname
etc/hosts
etc/mtab
etc/resolv.conf
proc/
sys/'

say() { printf '# %s\n' "$*"; }

if [ "${SKIP_CONTAINER_TESTS:-}" = 1 ]; then
  say "container tests: SKIPPED (SKIP_CONTAINER_TESTS=1)"
  exit 0
fi
if ! timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "container tests: FAILED: no Docker engine answers ('docker version' cannot reach the daemon)." >&2
  echo "container tests: start dockerd (or fix DOCKER_HOST / permissions), or set SKIP_CONTAINER_TESTS=1 to skip them." >&2
  echo "not ok - a Docker engine answers"
  echo "0 passed, 1 failed"
  exit 1
fi

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -n "${ARCH:-}" ] && ! qemu=$(bash "$(dirname "${BASH_SOURCE[0]}")/qemu.sh" "$ARCH"); then
  say "container tests of linux/$ARCH: SKIPPED: $qemu"
  exit 0
fi

# ---- prerequisites: made by the Makefile, never rebuilt here
missing=()
for f in "$DIST/contributors" "$DIST/fake-github"; do [ -x "$f" ] || missing+=("$f"); done
for v in $VARIANTS; do docker image inspect "$IMAGE:$v$SUFFIX" >/dev/null 2>&1 || missing+=("image $IMAGE:$v$SUFFIX"); done
command -v curl >/dev/null 2>&1 || missing+=("curl (apt-get install -y curl)")
if [ ${#missing[@]} -gt 0 ]; then
  not_ok "prerequisites present: missing ${missing[*]} (run: make build images)"
  finish; exit 1
fi

export CONTAINER_LABEL=io.contributors.test=1
# shellcheck source=ci/containers.sh
. "$(dirname "${BASH_SOURCE[0]}")/containers.sh"
chmod 755 "$TMP"
mapped_port() { docker port "$1" 8080/tcp 2>/dev/null | head -n1 | sed 's/.*://'; }
show_logs() { docker logs --tail 15 "$1" 2>&1 | sed 's/^/#   /' || true; }

# ---- fake GitHub: real TLS on loopback, its own CA, demo fixtures
if start_fake 600; then
  ok "fake-github listening on $FAKE_URL"
  # A login to look for: straight from the fixture the app will be served.
  LOGIN=$(fixture_login)
  check "fake-github serves the $REPO_PATH fixture (first contributor: ${LOGIN:-none})" test -n "$LOGIN"
else
  # Go on without it: the other checks still tell a lot.
  not_ok "fake-github starts and prints its URL (the TLS checks below fail too)"
  sed 's/^/#   /' "$TMP/fake.out" "$TMP/fake.err" || true
  FAKE_URL=https://127.0.0.1:9 LOGIN=""
  : >"$TMP/ca.pem"; chmod 644 "$TMP/ca.pem"
fi

app_env

# ---- the images
# A. plain `docker run -d -P`, as a user would: all started first, so their
# health checks (first probe one --interval after start) run while we test.
WANT_ARCH=${ARCH:-$(docker version -f '{{.Server.Arch}}')}
case $WANT_ARCH in arm64) WANT_TRIPLE=aarch64-unknown-linux-musl ;; *) WANT_TRIPLE=x86_64-unknown-linux-musl ;; esac
declare -A STARTED=()
for v in $VARIANTS; do
  start "$RUN-$v-plain" "${PLATFORM[@]}" -P "$IMAGE:$v$SUFFIX"
  STARTED[$v]=$(date +%s)
done

for v in $VARIANTS; do
  img=$IMAGE:$v$SUFFIX
  say "---- $img"
  a=$RUN-$v-plain
  started=${STARTED[$v]}
  port=$(mapped_port "$a")
  if [ -n "$port" ] && wait_200 "http://127.0.0.1:$port/healthz"; then
    ok "$v: docker run -d -P answers on mapped port $port"
  else
    not_ok "$v: docker run -d -P answers on mapped port ${port:-?}"; show_logs "$a"
  fi
  check "$v: GET / -> 200" expect_200 "http://127.0.0.1:$port/"
  check "$v: GET /healthz -> 200" expect_200 "http://127.0.0.1:$port/healthz"

  # Image metadata: OCI labels from the build args, numeric non-root user.
  meta=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "org.opencontainers.image.revision"}} {{.Config.User}}' "$img")
  check "$v: OCI labels and USER set (version revision user: $meta)" \
    grep -Eq '^[0-9][^ ]* ([0-9a-f][^ ]*|unknown) 65534:65534$' <<<"$meta"

  # The architecture: in the image config, and of the binary that runs.
  arch=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$img")
  check "$v: image is linux/$WANT_ARCH (got $arch)" test "$arch" = "linux/$WANT_ARCH"
  out=$(timeout 60 docker run --rm "${PLATFORM[@]}" "$img" --version 2>&1 || true)
  check "$v: --version names the ${WANT_TRIPLE%%-*} build ($out)" grep -q "($WANT_TRIPLE)" <<<"$out"

  # Non-root: ask the kernel, not the image config.
  pid=$(docker inspect -f '{{.State.Pid}}' "$a")
  ids=$(awk '/^Uid:|^Gid:/ {print $1, $2, $3, $4, $5}' "/proc/$pid/status" 2>/dev/null | tr '\n' ' ' || true)
  check "$v: process runs as 65534:65534 (${ids% })" \
    grep -Eq '^Uid: 65534 65534 65534 65534 Gid: 65534 65534 65534 65534 $' <<<"$ids"

  # B. against fake GitHub over TLS (host network: the fake listens on loopback).
  b=$RUN-$v-tls
  bport=$(free_port)
  start "$b" "${PLATFORM[@]}" --network host -e "PORT=$bport" "${APP_ENV[@]}" "$img"
  if wait_200 "http://127.0.0.1:$bport/healthz"; then
    contributors_page "$bport" "$v"
  else
    not_ok "$v: container with fake GitHub answers on 127.0.0.1:$bport"; show_logs "$b"
  fi
  docker rm -f "$b" >/dev/null 2>&1 || true

  # C. hardened: read-only root, no capabilities, no privilege escalation.
  c=$RUN-$v-hardened
  cport=$(free_port)
  start "$c" "${PLATFORM[@]}" --network host -e "PORT=$cport" "${APP_ENV[@]}" \
    --read-only --cap-drop ALL --security-opt no-new-privileges "$img"
  if wait_200 "http://127.0.0.1:$cport/healthz"; then
    ok "$v: --read-only --cap-drop ALL no-new-privileges: GET /healthz -> 200"
    code=$(http_code "http://127.0.0.1:$cport/$REPO_PATH")
    check "$v: --read-only --cap-drop ALL no-new-privileges: GET /$REPO_PATH -> 200 (got $code)" test "$code" = 200
  else
    not_ok "$v: --read-only --cap-drop ALL no-new-privileges: GET /healthz -> 200"; show_logs "$c"
  fi
  docker rm -f "$c" >/dev/null 2>&1 || true

  # Docker's own HEALTHCHECK on A (first probe one --interval after start).
  wait_healthy "$a" "$started" "$HEALTH_LIMIT_S" || true
  check "$v: health status healthy after $HEALTH_SECS s (got ${HEALTH:-none})" test "$HEALTH" = healthy

  # Graceful stop: SIGTERM to PID 1, which must exit 0, promptly.
  stop_timed "$a" 10
  check "$v: docker stop took $STOP_MS ms (limit $STOP_LIMIT_MS)" test "$STOP_MS" -lt "$STOP_LIMIT_MS"
  check "$v: exit code after docker stop is 0 (got $STOP_CODE)" test "$STOP_CODE" = 0

  # scratch: nothing in the container but the binary and Docker's own files.
  if [ "$v" = scratch ]; then
    files=$(docker export "$a" | tar -t | sed 's|^\./||' | grep -v '^$' | sort)
    if [ "$files" = "$(sort <<<"$EXPECTED_SCRATCH_FILES")" ]; then
      ok "scratch: docker export lists exactly: $(tr '\n' ' ' <<<"$files" | sed 's/ $//')"
    else
      not_ok "scratch: docker export lists exactly the expected files"
      diff <(sort <<<"$EXPECTED_SCRATCH_FILES") <(printf '%s\n' "$files") | sed 's/^/#   /' || true
    fi
  fi
  docker rm -f "$a" >/dev/null 2>&1 || true

  # Size ceilings.
  size=$(docker image inspect -f '{{.Size}}' "$img")
  if [ -n "${SIZE_LIMIT[$v]:-}" ]; then
    check "$v: image size $size bytes <= ${SIZE_LIMIT[$v]} ($((SIZE_LIMIT[$v] / MiB)) MiB${SIZE_TARGET[$v]:+, ${SIZE_TARGET[$v]}})" \
      test "$size" -le "${SIZE_LIMIT[$v]}"
  else
    say "$v: image size $size bytes (no ceiling)"
  fi
done

# ---- the CA-bundle lesson: the same scratch image with a binary that trusts
# the operating system's store instead of its compiled-in roots. scratch has
# no store, so it must refuse to start, clearly (Go's "x509: failed to load
# system roots"); the bundled build above talked TLS from the same base.
if [ -n "${ARCH:-}" ]; then
  say "scratch-system-roots: checked once, with this machine's images"
elif docker image inspect "$IMAGE:scratch-system-roots" >/dev/null 2>&1; then
  say "---- $IMAGE:scratch-system-roots"
  out=$(timeout 30 docker run --rm "$IMAGE:scratch-system-roots" 2>&1) && rc=0 || rc=$?
  check "scratch-system-roots: exits non-zero at start (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
  check "scratch-system-roots: says 'failed to load system roots' ($(head -c 160 <<<"$out"))" \
    grep -q "failed to load system roots" <<<"$out"
else
  not_ok "image $IMAGE:scratch-system-roots exists (run: make image-scratch-system-roots)"
fi

finish
