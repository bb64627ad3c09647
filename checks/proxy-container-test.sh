#!/usr/bin/env bash
# checks/proxy-container-test.sh — the image behind an HTTP proxy.
#
# Runs $IMAGE:$VARIANT (default: the scratch image, which has no tools at all)
# with HTTPS_PROXY pointing at a tinyproxy on the host, and checks, one
# `ok - ...` / `not ok - ...` line each:
#   - the contributors page and an avatar come from fake-github (real TLS,
#     trusted through CONTRIBUTORS_EXTRA_CA_FILE) through the proxy: its log
#     shows the CONNECT, with Basic proxy authentication;
#   - /status, the log and `doctor` name the proxy with the password masked;
#   - with NO_PROXY covering the host the same image goes direct (no CONNECT);
#   - with a wrong password the page is the 502 "did not accept our
#     credentials" page, not "GitHub could not be reached".
# The container shares the host's network (--network host), so the proxy and
# the fake both listen on 127.0.0.1 only. Ends with `N passed, M failed`.
# Everything started here is stopped and removed on exit.
#
# Uses what `make build images` made (dist/fake-github, $IMAGE:$VARIANT).
# Env: IMAGE (default contributors), DIST (default dist), VARIANT (default
#      scratch), SKIP_CONTAINER_TESTS=1 to skip (exit 0).
# Needs: docker, curl, tinyproxy (Debian package tinyproxy).
set -euo pipefail

IMAGE=${IMAGE:-contributors}
DIST=${DIST:-dist}
VARIANT=${VARIANT:-scratch}
REPO_PATH=kelseyhightower/contributors   # a fixture repo of fake-github
PROXY_USER=workshop PROXY_PASSWORD=pr0xy-pass_42   # tinyproxy takes [A-Za-z0-9_-]

say() { printf '# %s\n' "$*"; }

if [ "${SKIP_CONTAINER_TESTS:-}" = 1 ]; then
  say "proxy container test: SKIPPED (SKIP_CONTAINER_TESTS=1)"
  exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=ci/lib.sh
. ci/lib.sh

bash ci/ensure-packages.sh tinyproxy:tinyproxy curl:curl
TINYPROXY=$(command -v tinyproxy || true)
missing=()
timeout 20 docker version >/dev/null 2>&1 || missing+=("a Docker engine (docker version fails)")
[ -x "$DIST/fake-github" ] || missing+=("$DIST/fake-github (run: make build)")
docker image inspect "$IMAGE:$VARIANT" >/dev/null 2>&1 || missing+=("image $IMAGE:$VARIANT (run: make images)")
command -v curl >/dev/null 2>&1 || missing+=("curl (apt-get install -y curl)")
[ -n "$TINYPROXY" ] || missing+=("tinyproxy (apt-get install -y tinyproxy)")
if [ ${#missing[@]} -gt 0 ]; then
  not_ok "prerequisites present: missing ${missing[*]}"
  finish; exit 1
fi

export CONTAINER_LABEL=io.contributors.test=1
# shellcheck source=ci/containers.sh
. ci/containers.sh
TP_PID=""
# containers.sh's cleanup removes the containers, the fake and $TMP; stop
# the proxy first.
trap '[ -z "$TP_PID" ] || kill "$TP_PID" 2>/dev/null || true; cleanup' EXIT

# ---- fake GitHub and the proxy, both on the host's loopback
if ! start_fake 300; then
  not_ok "fake-github starts and prints its URL"
  sed 's/^/#   /' "$TMP/fake.out" "$TMP/fake.err" || true
  finish; exit 1
fi
FAKE_TARGET=${FAKE_URL#https://}
ok "fake-github listening on $FAKE_URL"

TP_PORT=$(free_port)
cat >"$TMP/tinyproxy.conf" <<EOF
Port $TP_PORT
Listen 127.0.0.1
Allow 127.0.0.1
Timeout 30
MaxClients 20
LogLevel Connect
LogFile "$TMP/tinyproxy.log"
BasicAuth $PROXY_USER $PROXY_PASSWORD
EOF
# -d: foreground, so $! is the proxy; `timeout` bounds it should cleanup not run.
timeout 300 "$TINYPROXY" -d -c "$TMP/tinyproxy.conf" >"$TMP/tinyproxy.out" 2>&1 &
TP_PID=$!
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$TP_PORT") 2>/dev/null; }
for _ in $(seq 1 50); do listening && break; sleep 0.2; done
if ! listening; then
  not_ok "tinyproxy listens on 127.0.0.1:$TP_PORT"
  sed 's/^/#   /' "$TMP/tinyproxy.out" "$TMP/tinyproxy.log" 2>/dev/null || true
  finish; exit 1
fi
ok "tinyproxy listens on 127.0.0.1:$TP_PORT (Basic auth required)"
# connects: how many CONNECTs to the fake tinyproxy has logged so far.
connects() {
  local n
  n=$(grep -c "CONNECT $FAKE_TARGET " "$TMP/tinyproxy.log" 2>/dev/null || true)
  echo "${n:-0}"
}

PROXY_URL="http://$PROXY_USER:$PROXY_PASSWORD@127.0.0.1:$TP_PORT"
MASKED="http://$PROXY_USER:***@127.0.0.1:$TP_PORT"
APP_ENV=(-e "GITHUB_API_URL=$FAKE_URL" -e "CONTRIBUTORS_AVATAR_URL=$FAKE_URL"
         -e CONTRIBUTORS_EXTRA_CA_FILE=/ca.pem -v "$TMP/ca.pem:/ca.pem:ro")

# run_app NAME ENV...: the image on the host network, on a free port; sets
# APP_PORT. Returns 1 if /healthz does not answer (its log is shown).
run_app() {
  local name=$1; shift
  APP_PORT=$(free_port)
  start "$name" --network host -e "PORT=$APP_PORT" "${APP_ENV[@]}" "$@" "$IMAGE:$VARIANT"
  wait_200 "http://127.0.0.1:$APP_PORT/healthz" && return 0
  not_ok "$name answers on 127.0.0.1:$APP_PORT"
  docker logs --tail 15 "$name" 2>&1 | sed 's/^/#   /' || true
  return 1
}
page() { curl -s --noproxy '*' --max-time 15 -o "$TMP/page.html" -w '%{http_code}' "http://127.0.0.1:$APP_PORT$1" || true; }
say "---- $IMAGE:$VARIANT behind $MASKED"

# A. Through the proxy, with the right credentials.
a=proxy-test-$VARIANT-via
before=$(connects)
if run_app "$a" -e "HTTPS_PROXY=$PROXY_URL"; then
  code=$(page "/$REPO_PATH")
  check "$VARIANT via proxy: GET /$REPO_PATH -> 200 (got $code)" test "$code" = 200
  src=$(grep -o 'src="/avatars/[^"]*"' "$TMP/page.html" | head -n1 | sed 's/^src="//; s/"$//; s/&amp;/\&/g' || true)
  code=$(page "${src:-/avatars/1?s=80}")
  check "$VARIANT via proxy: GET ${src:-an avatar} -> 200 (got $code)" test "$code" = 200
  n=$(($(connects) - before))
  check "$VARIANT via proxy: tinyproxy logged $n CONNECT $FAKE_TARGET (want >= 1)" test "$n" -ge 1
  status=$(curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$APP_PORT/status" || true)
  check "$VARIANT via proxy: /status shows \"proxy\":\"$MASKED\"" grep -qF "\"proxy\":\"$MASKED\"" <<<"$status"
  logs=$(docker logs "$a" 2>&1 || true)
  check "$VARIANT via proxy: the log says $FAKE_TARGET goes via the proxy, password masked" \
    grep -qF "$FAKE_TARGET via proxy $MASKED" <<<"$logs"
  check "$VARIANT via proxy: neither /status nor the log shows the password" \
    test "$(grep -cF "$PROXY_PASSWORD" <<<"$status$logs" || true)" = 0
fi

# B. `doctor` in the same image: the proxy line, and TLS through the tunnel.
doctor=$(timeout 60 docker run --rm --network host "${APP_ENV[@]}" -e "HTTPS_PROXY=$PROXY_URL" \
  "$IMAGE:$VARIANT" doctor 2>&1 || true)
check "$VARIANT doctor: proxy line names $MASKED" grep -qF "$FAKE_TARGET via proxy $MASKED" <<<"$doctor"
check "$VARIANT doctor: tls ok through the proxy" grep -Eq '^ok +tls ' <<<"$doctor"
check "$VARIANT doctor: the password is not shown" test "$(grep -cF "$PROXY_PASSWORD" <<<"$doctor" || true)" = 0

# C. NO_PROXY covers the fake: direct, the proxy sees nothing.
c=proxy-test-$VARIANT-direct
before=$(connects)
if run_app "$c" -e "HTTPS_PROXY=$PROXY_URL" -e "NO_PROXY=127.0.0.0/8"; then
  code=$(page "/$REPO_PATH")
  check "$VARIANT NO_PROXY=127.0.0.0/8: GET /$REPO_PATH -> 200 (got $code)" test "$code" = 200
  n=$(($(connects) - before))
  check "$VARIANT NO_PROXY=127.0.0.0/8: no CONNECT logged (got $n)" test "$n" = 0
fi

# D. A wrong password: the proxy's own 502 page, which names it without credentials.
d=proxy-test-$VARIANT-badauth
if run_app "$d" -e "HTTPS_PROXY=http://$PROXY_USER:not-the-password@127.0.0.1:$TP_PORT"; then
  code=$(page "/$REPO_PATH")
  check "$VARIANT wrong proxy password: GET /$REPO_PATH -> 502 (got $code)" test "$code" = 502
  check "$VARIANT wrong proxy password: the page says the proxy did not accept our credentials" \
    grep -q "The proxy did not accept our credentials" "$TMP/page.html"
  names_proxy_only() {
    grep -qF "http://127.0.0.1:$TP_PORT" "$TMP/page.html" &&
      ! grep -q -e "$PROXY_USER" -e not-the-password "$TMP/page.html"
  }
  check "$VARIANT wrong proxy password: the page names http://127.0.0.1:$TP_PORT, no credentials" names_proxy_only
fi

finish
