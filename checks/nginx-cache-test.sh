#!/usr/bin/env bash
# checks/nginx-cache-test.sh — replicas behind a shared HTTP cache make one
# upstream call, and the cache carries them through an outage.
# (`make test-cache`)
#
# A real nginx (Debian's nginx-light), started here on loopback as a caching
# reverse proxy, in front of TWO app processes (dist/contributors), which
# talk to dist/fake-github. nginx's configuration adds nothing about how
# long to keep a page: it follows the app's Cache-Control
# (`public, max-age=<rest of CONTRIBUTORS_CACHE_TTL>, stale-while-revalidate=60,
# stale-if-error=86400`, see contributors/src/routes.rs). Checks:
#   - both app processes answer through nginx (round robin);
#   - 1,000 views of one repository, 8 clients at once, all 200, make 1
#     upstream call in total (fake-github's /_fake/stats): nginx keeps one
#     copy for both replicas, and `proxy_cache_lock` sends only one of the
#     concurrent first misses to an app;
#   - then fake-github stops and both apps restart (a rollout during a
#     GitHub outage: their own caches are empty). A restarted app alone
#     answers 502, but once nginx's copy is past max-age, nginx keeps serving
#     the page from it (X-Cache-Status STALE or UPDATING).
# One `ok - ...` / `not ok - ...` line per check; ends with `N passed, M failed`.
# Everything listens on 127.0.0.1 and is stopped on exit, however the script ends.
#
# Env: DIST (default dist), VIEWS (default 1000), TTL (default 15: the apps'
# CONTRIBUTORS_CACHE_TTL; the 1,000 views must fit in it, the outage part
# waits it out).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIST=${DIST:-dist}
VIEWS=${VIEWS:-1000}
CLIENTS=8
TTL=${TTL:-15}
REPO_PATH=kelseyhightower/contributors   # a fixture repo of fake-github

. ci/lib.sh
say() { printf '# %s\n' "$*"; }

# nginx lives in /usr/sbin, which is not on a non-root PATH on Debian.
export PATH=$PATH:/usr/sbin
bash ci/ensure-packages.sh nginx:nginx-light curl:curl python3:python3
for f in "$DIST/contributors" "$DIST/fake-github"; do
  [ -x "$f" ] || { not_ok "$f present (run: make build)"; finish; exit 1; }
done

. ci/containers.sh   # $TMP, start_fake, and its cleanup on exit
APP_PIDS=() NGINX_PID=""
stop_all() {
  local p
  for p in "${APP_PIDS[@]}" $NGINX_PID; do kill "$p" 2>/dev/null || true; done
  for p in "${APP_PIDS[@]}" $NGINX_PID; do wait "$p" 2>/dev/null || true; done
  cleanup
}
trap stop_all EXIT
NGX=$TMP/nginx
mkdir -p "$NGX/cache"

# get URL [CURL ARGS...]: the status, X-Cache-Status and X-Upstream of one request.
get() {
  local url=$1; shift
  curl -s --noproxy '*' --max-time 15 -o "$TMP/body" "$@" \
    -w '%{http_code} %header{x-cache-status} %header{x-upstream}\n' "$url" || echo "000"
}

# start_app N PORT: app number N on 127.0.0.1:PORT (0: any free port);
# sets APP_PORT[N] from its "listening on" line.
declare -A APP_PORT=()
start_app() {
  local n=$1 port=$2 log="$TMP/app$1.log" _
  PORT=$port CONTRIBUTORS_BIND=127.0.0.1 GITHUB_API_URL=$FAKE_URL CONTRIBUTORS_AVATAR_URL=$FAKE_URL \
    CONTRIBUTORS_EXTRA_CA_FILE=$TMP/ca.pem CONTRIBUTORS_CACHE_TTL=$TTL \
    "$DIST/contributors" >"$log" 2>&1 &
  APP_PIDS[n]=$!
  for _ in $(seq 1 100); do
    APP_PORT[$n]=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
    [ -n "${APP_PORT[$n]}" ] && return 0
    kill -0 "${APP_PIDS[n]}" 2>/dev/null || break
    sleep 0.1
  done
  sed 's/^/#   /' "$log"
  return 1
}

fake_stat() { curl -s --noproxy '*' --max-time 5 --cacert "$TMP/ca.pem" "$FAKE_URL/_fake/stats" |
  python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

# ---- fake GitHub, two apps, nginx
start_fake 600 || { not_ok "fake-github starts"; sed 's/^/#   /' "$TMP/fake.err"; finish; exit 1; }
if ! { start_app 1 0 && start_app 2 0; }; then not_ok "two app processes start"; finish; exit 1; fi
ok "fake-github at $FAKE_URL, apps on ports ${APP_PORT[1]} and ${APP_PORT[2]} (CONTRIBUTORS_CACHE_TTL=$TTL)"

NGINX_PORT=$(free_port)
# A shared cache as an operator would set it up. Nothing says how long to
# keep a page: nginx takes that from the app's Cache-Control.
cat >"$NGX/nginx.conf" <<CONF
$( [ "$(id -u)" = 0 ] && echo "user nobody nogroup;" )
worker_processes 1;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $NGX/client_body;
  proxy_temp_path $NGX/proxy;
  fastcgi_temp_path $NGX/fastcgi;
  uwsgi_temp_path $NGX/uwsgi;
  scgi_temp_path $NGX/scgi;

  proxy_cache_path $NGX/cache keys_zone=pages:1m max_size=64m inactive=1d;
  upstream replicas {
    server 127.0.0.1:${APP_PORT[1]};
    server 127.0.0.1:${APP_PORT[2]};
    keepalive 8;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_cache pages;
      # Concurrent misses for one page: one goes to a replica, the others
      # wait for its answer and are served from the cache.
      proxy_cache_lock on;
      # The app's stale-while-revalidate / stale-if-error, made explicit:
      # an old copy beats an error page while the replicas cannot answer.
      proxy_cache_use_stale error timeout updating http_502 http_503 http_504;
      proxy_cache_background_update on;
      add_header X-Cache-Status \$upstream_cache_status always;
      add_header X-Upstream \$upstream_addr always;
    }
  }
}
CONF
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$NGX/cache" && chmod 755 "$TMP" "$NGX"
nginx -e "$NGX/error.log" -p "$NGX" -c "$NGX/nginx.conf" &
NGINX_PID=$!
BASE=http://127.0.0.1:$NGINX_PORT
for _ in $(seq 1 50); do
  [ "$(get "$BASE/healthz" | cut -d' ' -f1)" = 200 ] && break
  kill -0 "$NGINX_PID" 2>/dev/null || break
  sleep 0.1
done
if [ "$(get "$BASE/healthz" | cut -d' ' -f1)" = 200 ]; then
  ok "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') proxies on 127.0.0.1:$NGINX_PORT"
else
  not_ok "nginx starts on 127.0.0.1:$NGINX_PORT"; sed 's/^/#   /' "$NGX/error.log" || true; finish; exit 1
fi

# /healthz is no-store: every request goes through to a replica.
seen=$(for _ in 1 2 3 4; do get "$BASE/healthz" | awk '{print $NF}'; done | sort -u | tr '\n' ' ')
check "both replicas answer through nginx (upstreams seen: ${seen% })" \
  test "$(wc -w <<<"$seen")" = 2

# ---- 1,000 views, CLIENTS at once, each client one curl over one keep-alive connection
before=$(fake_stat requests)
t0=$(date +%s%N)
args=()
for _ in $(seq 1 $((VIEWS / CLIENTS))); do args+=(-o /dev/null "$BASE/$REPO_PATH"); done
clients=()
for c in $(seq 1 "$CLIENTS"); do
  curl -s --noproxy '*' --max-time 15 -w '%{http_code} %header{x-cache-status}\n' "${args[@]}" >"$TMP/views.$c" &
  clients+=($!)
done
for c in "${clients[@]}"; do wait "$c" || true; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
cat "$TMP"/views.* >"$TMP/views"
total=$(wc -l <"$TMP/views")
ok200=$(grep -c '^200 ' "$TMP/views" || true)
statuses=$(awk '{print $2}' "$TMP/views" | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')
calls=$(( $(fake_stat requests) - before ))
lists=$(fake_stat contributors_requests)
check "$VIEWS views of /$REPO_PATH through nginx: $ok200 of $total answered 200 in $ms ms (${statuses%, })" \
  test "$ok200" = "$VIEWS"
check "$VIEWS views spread over 2 replicas made $calls upstream call(s) in total (GitHub API list requests: $lists)" \
  test "$calls" = 1
head_cc=$(curl -s --noproxy '*' --max-time 5 -o /dev/null -D - "$BASE/$REPO_PATH" | tr -d '\r' | sed -n 's/^cache-control: //Ip')
check "the page's Cache-Control lets nginx share it: $head_cc" grep -q '^public, max-age=[0-9]*, stale-while-revalidate=[0-9]*, stale-if-error=[0-9]*$' <<<"$head_cc"

# ---- the outage: fake-github stops, both apps restart with empty caches
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null || true; FAKE_PID=""
for n in 1 2; do
  kill "${APP_PIDS[n]}"; wait "${APP_PIDS[n]}" 2>/dev/null || true
  start_app "$n" "${APP_PORT[$n]}" || not_ok "app $n restarts on port ${APP_PORT[$n]}"
done
direct=$(get "http://127.0.0.1:${APP_PORT[1]}/$REPO_PATH" | cut -d' ' -f1)
check "GitHub down, a restarted replica alone answers 502 (got $direct)" test "$direct" = 502
# Views go on; within max-age they are plain HITs. Wait (bounded: TTL + 10 s)
# for the first answer nginx gives from an expired copy.
# Only the list page has avatars (an error page echoes the names too).
stale=0 served=0 other="" seen=""
deadline=$((SECONDS + TTL + 10))
while [ "$SECONDS" -lt "$deadline" ]; do
  read -r code cstatus _ <<<"$(get "$BASE/$REPO_PATH")"
  if [ "$code" = 200 ] && grep -q 'src="/avatars/' "$TMP/body"; then served=$((served + 1)); else other="$other $code"; fi
  seen="$seen $cstatus"
  case "$cstatus" in STALE | UPDATING) stale=$((stale + 1)); [ "$stale" -ge 5 ] && break ;; esac
  sleep 0.5
done
statuses=$(tr ' ' '\n' <<<"$seen" | sed '/^$/d' | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')
check "GitHub down and replicas restarted: nginx served the list page to all $served view(s) (${statuses%, })${other:+; not to:$other}" \
  test -z "$other"
check "... the last $stale past max-age, from its stale copy (X-Cache-Status STALE or UPDATING)" test "$stale" -ge 5
finish
