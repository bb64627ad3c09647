# shellcheck shell=bash
# ci/containers.sh — sourced by the scripts that start containers and a fake
# GitHub (ci/container-tests.sh, workshop/workshop.sh, demo/demo.sh): one
# place that starts, waits for, stops and cleans up what they start, however
# they end. Sources ci/lib.sh.
#
#   CONTAINER_LABEL=io.contributors.test=1   # before sourcing: tags each container
#   . ci/containers.sh
#   start NAME ARGS...        docker run -d, removed on exit
#   start_fake SECONDS        $DIST/fake-github on loopback, killed on exit
#   wait_healthy NAME SINCE LIMIT
#                             Docker's HEALTHCHECK says healthy, at most LIMIT s
#                             after SINCE (epoch s); sets HEALTH and HEALTH_SECS
#   stop_timed NAME GRACE     docker stop -t GRACE; sets STOP_MS and STOP_CODE
#   http_code URL             a GET's status code (000: no answer), 5 s max
#   wait_200 URL              poll until 200, at most ~10 s
#   app_env                   APP_ENV=(docker run options): the app talks to the fake
#   fixture_login             a contributor's login in the fake's $REPO_PATH fixture
#   contributors_page PORT WHAT
#                             checks: GET /$REPO_PATH on PORT lists $LOGIN, avatar loads
#   "$TMP"                    a scratch directory, removed on exit

# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TMP=$(mktemp -d)
CONTAINERS=()
FAKE_PID=""

cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {
  local name=$1; shift
  docker rm -f "$name" >/dev/null 2>&1 || true
  CONTAINERS+=("$name")
  docker run -d --name "$name" --label "${CONTAINER_LABEL:-io.contributors.test=1}" "$@" >/dev/null
}

# fake-github exits by itself after SECONDS. Sets FAKE_PID and FAKE_URL; its
# throwaway CA lands in $TMP/ca.pem. Returns 1 if it has not printed its URL
# within ~10 s (its output is then in $TMP/fake.out and $TMP/fake.err).
start_fake() {
  "${DIST:-dist}/fake-github" --listen 127.0.0.1:0 --ca-out "$TMP/ca.pem" --exit-after "$1" \
    >"$TMP/fake.out" 2>"$TMP/fake.err" &
  FAKE_PID=$!
  FAKE_URL=""
  retry 100 0.1 fake_ready || return 1
  # Containers run as uid 65534 and read the CA through a bind mount.
  chmod 755 "$TMP"
  chmod 644 "$TMP/ca.pem"
}
fake_ready() {
  FAKE_URL=$(sed -n 's/^fake-github listening on \(https:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$TMP/fake.out" | head -n1)
  [ -n "$FAKE_URL" ] && [ -s "$TMP/ca.pem" ] && return 0
  kill -0 "$FAKE_PID" 2>/dev/null || return 2
  return 1
}

wait_healthy() {
  local name=$1 since=$2 limit=$3
  while :; do
    HEALTH=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$name" 2>/dev/null || true)
    HEALTH_SECS=$(($(date +%s) - since))
    [ "$HEALTH" = healthy ] && return 0
    [ "$HEALTH_SECS" -ge "$limit" ] && return 1
    sleep 1
  done
}

# shellcheck disable=SC2034  # STOP_MS, STOP_CODE: for the caller
stop_timed() {
  local t0
  t0=$(date +%s%N)
  docker stop -t "$2" "$1" >/dev/null 2>&1 || true
  STOP_MS=$((($(date +%s%N) - t0) / 1000000))
  STOP_CODE=$(docker inspect -f '{{.State.ExitCode}}' "$1")
}

http_code() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }
expect_200() { [ "$(http_code "$1")" = 200 ]; }
wait_200() { retry 50 0.2 expect_200 "$1"; }

REPO_PATH=${REPO_PATH:-kelseyhightower/contributors}   # a fixture repo of fake-github

# APP_ENV: the app in a container talks to the fake GitHub (on the host's
# loopback: run it with --network host), trusting the fake's CA.
# shellcheck disable=SC2034  # APP_ENV: for the caller
app_env() {
  APP_ENV=(-e "GITHUB_API_URL=$FAKE_URL" -e "CONTRIBUTORS_AVATAR_URL=$FAKE_URL"
           -e CONTRIBUTORS_EXTRA_CA_FILE=/ca.pem -v "$TMP/ca.pem:/ca.pem:ro")
}

fixture_login() {
  curl -s --noproxy '*' --max-time 5 --cacert "$TMP/ca.pem" "$FAKE_URL/repos/$REPO_PATH/contributors" |
    grep -o '"login" *: *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | grep -vx "${REPO_PATH%%/*}" | head -n1 || true
}

# contributors_page PORT WHAT: the page for REPO_PATH lists LOGIN, and its
# first avatar loads (one check line each).
contributors_page() {
  local port=$1 what=$2 body code src ct
  code=$(curl -s --noproxy '*' -o "$TMP/page.html" -w '%{http_code}' --max-time 15 "http://127.0.0.1:$port/$REPO_PATH" || true)
  body=$(cat "$TMP/page.html" 2>/dev/null || true)
  check "$what: GET /$REPO_PATH -> 200 (got $code)" test "$code" = 200
  check "$what: the page lists fixture login '$LOGIN'" grep -q -- "${LOGIN:-no fixture login}" <<<"$body"
  src=$(grep -o 'src="/avatars/[^"]*"' <<<"$body" | head -n1 | sed 's/^src="//; s/"$//; s/&amp;/\&/g' || true)
  check "$what: the page has an <img src=\"/avatars/...\">${src:+ ($src)}" test -n "$src"
  if [ -n "$src" ]; then
    ct=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code} %{content_type}' --max-time 15 "http://127.0.0.1:$port$src" || true)
    check "$what: GET $src -> 200 image/png (got $ct)" grep -Eq '^200 image/png' <<<"$ct"
  fi
}
