# shellcheck shell=bash
# ci/lib.sh — sourced by the test scripts, so that all of them report, wait
# and pick ports the same way.
#
#   ok DESCRIPTION / not_ok DESCRIPTION   count one check: `ok - ...` / `not ok - ...`
#   check DESCRIPTION COMMAND...          run COMMAND: ok if it succeeds
#   finish                                print "N passed, M failed"; false if M > 0
#   retry TIMES SECONDS COMMAND...        run COMMAND until it succeeds, at most
#                                         TIMES times, SECONDS apart (every wait is bounded)
#   free_port                             a loopback port nothing listens on
#   commit_time                           $SOURCE_DATE_EPOCH, else the last commit's time
#                                         (0 outside a git checkout): what images are dated
#   utc_date EPOCH FORMAT                 that time, in UTC, as date's +FORMAT (GNU, busybox, BSD)

PASS=${PASS:-0} FAIL=${FAIL:-0}   # sourcing twice keeps the counts
ok() { PASS=$((PASS + 1)); printf 'ok - %s\n' "$*"; }
not_ok() { FAIL=$((FAIL + 1)); printf 'not ok - %s\n' "$*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; }

retry() {
  local times=$1 pause=$2 i
  shift 2
  for ((i = 1; i <= times; i++)); do
    "$@" && return 0
    [ "$i" -lt "$times" ] && sleep "$pause"
  done
  return 1
}

# A random port in 20000-31999 that refuses a connection (bounded tries).
# Below Linux's ephemeral range (32768 and up by default): a port there can
# be the local end of some outgoing connection, which refuses connections
# too, yet makes a listener's bind fail with "address already in use".
free_port() {
  local p _
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# The time builds are dated with: SOURCE_DATE_EPOCH when set, else the last
# commit's, never the clock (so two builds of one commit are the same).
commit_time() {
  echo "${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
}

# GNU and busybox date read "-d @EPOCH"; BSD's (macOS) reads "-r EPOCH".
utc_date() {
  date -u -d "@$1" "+$2" 2>/dev/null || date -u -r "$1" "+$2"
}

# The SHA-256 of stdin, in hex: coreutils' and busybox's sha256sum, or
# macOS's shasum.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -c1-64
}
