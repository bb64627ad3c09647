# shellcheck shell=bash
# ci/loopback.sh — sourced by the tests that run the app's binary itself
# (not an image) against the fake GitHub, both on 127.0.0.1:
#
#   . ci/loopback.sh
#   start_loopback APP FAKE SECONDS [VAR=VALUE ...]
#       starts FAKE, then APP pointed at it (with the extra environment
#       given), each ended after SECONDS at the latest; sets FAKE_URL and
#       APP_URL, or fails saying why
#   "$TMP"    a scratch directory; it and both processes go on exit

TMP=$(mktemp -d)
LOOPBACK_PIDS=()
stop_loopback() {
  local pid
  for pid in "${LOOPBACK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap stop_loopback EXIT INT TERM

# url_in FILE: wait (bounded, 10 s) until FILE shows a URL on 127.0.0.1; print it.
url_in() {
  local _
  for _ in $(seq 1 200); do
    grep -om1 'https\?://127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "no address in $1:" >&2
  cat "$1" >&2
  return 1
}

# shellcheck disable=SC2034  # FAKE_URL, APP_URL: for the caller
start_loopback() {
  local app=$1 fake=$2 seconds=$3 bin
  shift 3
  for bin in "$app" "$fake"; do
    [ -x "$bin" ] || { echo "$bin is missing; run 'make build' first" >&2; return 1; }
  done
  "$fake" --listen 127.0.0.1:0 --ca-out "$TMP/ca.pem" --exit-after "$seconds" >"$TMP/fake.out" 2>&1 &
  LOOPBACK_PIDS+=($!)
  FAKE_URL=$(url_in "$TMP/fake.out") || return 1
  env PORT=0 CONTRIBUTORS_BIND=127.0.0.1 GITHUB_API_URL="$FAKE_URL" CONTRIBUTORS_AVATAR_URL="$FAKE_URL" \
    CONTRIBUTORS_EXTRA_CA_FILE="$TMP/ca.pem" "$@" timeout "$seconds" "$app" >"$TMP/app.out" 2>&1 &
  LOOPBACK_PIDS+=($!)
  APP_URL=$(url_in "$TMP/app.out")
}
