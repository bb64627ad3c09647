# ci/containers.sh — sourced by the scripts that start containers and a fake
# GitHub (ci/container-tests.sh, ci/workshop.sh): one place that cleans up
# whatever they started, however they end.
#
#   CONTAINER_LABEL=io.contributors.test=1   # before sourcing: tags each container
#   . ci/containers.sh
#   start NAME ARGS...                        # docker run -d, removed on exit
#   start_fake 600                            # $DIST/fake-github on loopback, killed on exit
#   free_port                                 # a loopback port nothing listens on
#   http_code URL / wait_200 URL              # a GET's status (000: none) / poll until 200, ~10 s
#   "$TMP"                                    # a scratch directory, removed on exit

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

# start NAME ARGS...: docker run -d, remembered for cleanup.
start() {
  local name=$1; shift
  docker rm -f "$name" >/dev/null 2>&1 || true
  CONTAINERS+=("$name")
  docker run -d --name "$name" --label "${CONTAINER_LABEL:-io.contributors.test=1}" "$@" >/dev/null
}

# start_fake SECONDS: runs $DIST/fake-github on 127.0.0.1 with its throwaway
# CA in $TMP/ca.pem; it exits by itself after SECONDS. Sets FAKE_PID and
# FAKE_URL. Returns 1 if it has not printed its URL within ~10 s (its output
# is then in $TMP/fake.out and $TMP/fake.err).
start_fake() {
  "$DIST/fake-github" --listen 127.0.0.1:0 --ca-out "$TMP/ca.pem" --exit-after "$1" \
    >"$TMP/fake.out" 2>"$TMP/fake.err" &
  FAKE_PID=$!
  FAKE_URL=""
  local _
  for _ in $(seq 1 100); do
    FAKE_URL=$(sed -n 's/^fake-github listening on \(https:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$TMP/fake.out" | head -n1)
    [ -n "$FAKE_URL" ] && [ -s "$TMP/ca.pem" ] && break
    kill -0 "$FAKE_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$FAKE_URL" ] && [ -s "$TMP/ca.pem" ] || return 1
  # Containers run as uid 65534 and read the CA through a bind mount.
  chmod 755 "$TMP"
  chmod 644 "$TMP/ca.pem"
}

# free_port: a loopback port nothing listens on (for --network host runs).
free_port() {
  local p _
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# http_code URL: the status code (000 when no answer), 5 s max.
http_code() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }

# wait_200 URL: poll until 200, at most ~10 s.
wait_200() {
  local _
  for _ in $(seq 1 50); do
    [ "$(http_code "$1")" = 200 ] && return 0
    sleep 0.2
  done
  return 1
}
