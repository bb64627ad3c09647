#!/usr/bin/env bash
# checks/compose-test.sh — compose.yaml comes up, serves, and goes away.
# (`make test-deploy`)
#
# Brings the file up with its `demo` profile under a project name of its
# own, then checks:
#   - the app (`contributors`) answers /healthz on its published port;
#   - the demo app answers the contributors page of a fixture repository,
#     fetched from the fake GitHub over TLS, and proxies an avatar;
#   - both app containers run hardened as the file says (read-only root,
#     user 65534, no capabilities) and become healthy by their own check;
#   - `down` removes every container, network and volume it made.
# Runs `docker compose` (v2) when there is one, else `docker-compose`
# (v1, Debian's package; installed through ci/ensure-packages.sh if neither).
# Every wait is bounded; whatever was started is removed on exit, however
# the script ends. One `ok - ...` / `not ok - ...` line per check; ends with
# `N passed, M failed`.
#
# Env: IMAGE (default contributors; the test runs $IMAGE:scratch), DIST
# (default dist; the demo mounts dist/fake-github from the checkout),
# PROJECT (default contributors-compose-test-PID).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IMAGE=${IMAGE:-contributors}
DIST=${DIST:-dist}
PROJECT=${PROJECT:-contributors-compose-test-$$}
REPO_PATH=kelseyhightower/contributors   # a fixture repo of fake-github
HEALTH_LIMIT_S=40

. ci/lib.sh
say() { printf '# %s\n' "$*"; }

if ! timeout 20 docker version >/dev/null 2>&1; then
  not_ok "a Docker engine answers (docker version)"; finish; exit 1
fi
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  bash ci/ensure-packages.sh docker-compose:docker-compose curl:curl python3:python3
  COMPOSE=(docker-compose)
fi
BASE_IMAGES=debian bash ci/base-images.sh   # fake-github's container runs on it
missing=()
[ "$DIST" = dist ] || missing+=("DIST=dist (compose.yaml mounts ./dist/fake-github)")
[ -x dist/fake-github ] || missing+=("dist/fake-github (run: make build)")
docker image inspect "$IMAGE:scratch" >/dev/null 2>&1 || missing+=("image $IMAGE:scratch (run: make image-scratch)")
docker image inspect debian:bookworm-slim >/dev/null 2>&1 || missing+=("image debian:bookworm-slim (run: make base-images)")
if [ ${#missing[@]} -gt 0 ]; then
  not_ok "prerequisites present: missing ${missing[*]}"; finish; exit 1
fi

APP_PORT=$(free_port) DEMO_PORT=$(free_port)
export CONTRIBUTORS_IMAGE=$IMAGE:scratch CONTRIBUTORS_ADDR=127.0.0.1:$APP_PORT DEMO_ADDR=127.0.0.1:$DEMO_PORT
# GITHUB_TOKEN from the caller's environment would be handed to the app: not here.
unset GITHUB_TOKEN
compose() { timeout 120 "${COMPOSE[@]}" -f compose.yaml -p "$PROJECT" --profile demo "$@"; }
TMP=$(mktemp -d)
down() { compose down -v --remove-orphans -t 10 >"$TMP/down.log" 2>&1; }
trap 'down || true; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

http_code() { curl -s --noproxy '*' -o "$TMP/body" -w '%{http_code}' --max-time 10 "$@" || true; }
wait_200() {
  local _
  for _ in $(seq 1 100); do [ "$(http_code "$1")" = 200 ] && return 0; sleep 0.2; done
  return 1
}
container() { compose ps -q "$1" 2>/dev/null | head -n1; }

say "$("${COMPOSE[@]}" version 2>/dev/null | head -n1), project $PROJECT, image $CONTRIBUTORS_IMAGE"
if compose up -d >"$TMP/up.log" 2>&1; then
  ok "${COMPOSE[*]} --profile demo up -d"
else
  not_ok "${COMPOSE[*]} --profile demo up -d"; sed 's/^/#   /' "$TMP/up.log"; finish; exit 1
fi

check "contributors: GET /healthz on $CONTRIBUTORS_ADDR -> 200" wait_200 "http://$CONTRIBUTORS_ADDR/healthz"
if wait_200 "http://$DEMO_ADDR/healthz"; then
  code=$(http_code "http://$DEMO_ADDR/$REPO_PATH")
  check "demo: GET /$REPO_PATH on $DEMO_ADDR -> 200 (got $code)" test "$code" = 200
  src=$(grep -o 'src="/avatars/[^"]*"' "$TMP/body" | head -n1 | sed 's/^src="//; s/"$//; s/&amp;/\&/g' || true)
  check "demo: the page lists contributors with avatars${src:+ ($src)}" test -n "$src"
  ct=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code} %{content_type}' --max-time 10 "http://$DEMO_ADDR$src" || true)
  check "demo: GET $src -> 200 image/png (got $ct)" grep -Eq '^200 image/png' <<<"$ct"
else
  not_ok "demo: GET /healthz on $DEMO_ADDR -> 200"
  compose logs --tail 20 2>&1 | sed 's/^/#   /'
fi

for service in contributors contributors-demo; do
  id=$(container "$service")
  hardening=$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.CapDrop}}' "$id" 2>/dev/null || true)
  check "$service: read-only root, user 65534, cap_drop ALL ($hardening)" test "$hardening" = "true 65534:65534 [ALL]"
done
# The first health probe runs one interval (10 s) after start.
deadline=$((SECONDS + HEALTH_LIMIT_S))
for service in contributors contributors-demo; do
  id=$(container "$service") health=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    health=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || true)
    [ "$health" = healthy ] && break
    sleep 1
  done
  check "$service: healthy by its own check (/contributors healthcheck) within ${HEALTH_LIMIT_S} s (${health:-no status})" test "$health" = healthy
done

if down; then
  ok "${COMPOSE[*]} --profile demo down -v"
else
  not_ok "${COMPOSE[*]} --profile demo down -v"; sed 's/^/#   /' "$TMP/down.log"
fi
left=$( { docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"
          docker network ls -q --filter "label=com.docker.compose.project=$PROJECT"
          docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"; } | wc -l)
check "nothing of project $PROJECT is left (containers, networks, volumes: $left)" test "$left" = 0
finish
