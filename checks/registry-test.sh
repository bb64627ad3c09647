#!/usr/bin/env bash
# checks/registry-test.sh — `make push` into a real registry, and back out of it
# (`make test-registry`).
#
# Starts Debian's docker-registry (the reference "distribution" registry)
# on a free 127.0.0.1 port, storage in a temp dir, then:
#   1. ci/push.sh pushes every image and the multi-arch lists;
#   2. `docker manifest inspect` of each list names linux/amd64 and linux/arm64;
#   3. the pushed tags are deleted from the engine;
#   4. `docker run --platform linux/ARCH REGISTRY/IMAGE:latest`, for each
#      architecture, pulls that architecture's image from the registry and
#      serves a contributors page from fake-github (arm64 under qemu).
# Uses what `make images` built. Traffic: 127.0.0.1 only. Everything started
# here (registry, containers, pulled images, the fake) is removed on exit.
# Ends with `N passed, M failed`; exits 1 if any failed.
# Env: IMAGE (default contributors), DIST (default dist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IMAGE=${IMAGE:-contributors}
ARCHS="amd64 arm64"
TAG=test-$$   # a version tag as `make push TAG=...` would push
say() { printf '# %s\n' "$*"; }

bash ci/ensure-packages.sh docker-registry:docker-registry curl:curl
if ! qemu=$(bash ci/qemu.sh arm64); then
  say "registry test: SKIPPED: $qemu"
  exit 0
fi

CONTAINER_LABEL=io.contributors.test=1
# shellcheck source=ci/containers.sh
. ci/containers.sh
REGISTRY_PID=""
REPO=""
# forget_local: remove every name the engine holds for $REPO (tags, and the
# digests of pulled images), not the images our own tags still name.
forget_local() {
  docker images --digests --format '{{.Repository}}:{{.Tag}} {{.Repository}}@{{.Digest}}' "$REPO" |
    tr ' ' '\n' | grep -Ev '(:|@)<none>$' | xargs -r docker rmi >/dev/null 2>&1 || true
}
stop_registry() {
  [ -z "$REPO" ] || forget_local
  if [ -n "$REGISTRY_PID" ]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
}
trap 'stop_registry; cleanup' EXIT

# ---- the registry: no auth, loopback only, deletes allowed, storage in $TMP
port=$(free_port)
REGISTRY=127.0.0.1:$port
REPO=$REGISTRY/$IMAGE
mkdir -p "$TMP/registry"
cat >"$TMP/registry.yml" <<YML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $TMP/registry }
  delete: { enabled: true }
http:
  addr: $REGISTRY
YML
docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
REGISTRY_PID=$!
if retry 50 0.2 expect_200 "http://$REGISTRY/v2/"; then
  ok "docker-registry answers on http://$REGISTRY/v2/"
else
  not_ok "docker-registry answers on http://$REGISTRY/v2/"; sed 's/^/#   /' "$TMP/registry.log"; finish; exit 1
fi

# ---- 1. push
if TAG=$TAG bash ci/push.sh "$REGISTRY" >"$TMP/push.out" 2>&1; then
  ok "make push REGISTRY=$REGISTRY TAG=$TAG: $(grep -c ' -> ' "$TMP/push.out") multi-arch tags"
else
  not_ok "make push REGISTRY=$REGISTRY TAG=$TAG"
fi
sed 's/^/#   /' "$TMP/push.out"

# ---- 2. each list names both platforms
for t in scratch busybox debian latest "$TAG"; do
  got=$(docker manifest inspect --insecure "$REPO:$t" 2>&1 |
    python3 -c 'import json, sys; print(" ".join(sorted(m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"])))' 2>/dev/null || true)
  check "docker manifest inspect $REPO:$t: ${got:-no manifest list}" test "$got" = "linux/amd64 linux/arm64"
done

# ---- 3. no local copies
forget_local
left=$(docker images -q "$REPO" | wc -l)
check "the pushed tags are gone from the engine ($left left)" test "$left" = 0

# ---- 4. run each architecture from the registry
if start_fake 300; then
  ok "fake-github listening on $FAKE_URL"
else
  not_ok "fake-github starts"; sed 's/^/#   /' "$TMP/fake.out" "$TMP/fake.err" || true
fi
LOGIN=$(fixture_login)
app_env
for a in $ARCHS; do
  name=${IMAGE##*/}-registry-$a
  p=$(free_port)
  if start "$name" --platform "linux/$a" --network host -e "PORT=$p" "${APP_ENV[@]}" "$REPO:latest"; then
    ok "$a: docker run --platform linux/$a $REPO:latest pulled it from the registry"
  else
    not_ok "$a: docker run --platform linux/$a $REPO:latest"; continue
  fi
  got=$(docker inspect -f '{{.Image}}' "$name" | xargs docker image inspect -f '{{.Os}}/{{.Architecture}}')
  check "$a: the container runs the linux/$a image (got $got)" test "$got" = "linux/$a"
  if wait_200 "http://127.0.0.1:$p/healthz"; then
    contributors_page "$p" "$a from the registry"
  else
    not_ok "$a: the container answers on 127.0.0.1:$p"; docker logs --tail 15 "$name" 2>&1 | sed 's/^/#   /'
  fi
  docker rm -f "$name" >/dev/null 2>&1 || true
done
finish
