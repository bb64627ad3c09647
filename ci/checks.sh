# ci/checks.sh — sourced by the test scripts (ci/container-tests.sh,
# ci/workshop-test.sh, ci/rename-test.sh) so that all of them report the same
# way: one line per check, `ok - ...` or `not ok - ...`, then a count.
#
#   ok DESCRIPTION / not_ok DESCRIPTION   count one check
#   check DESCRIPTION COMMAND...          run COMMAND: ok if it succeeds
#   finish                                print "N passed, M failed"; false if M > 0

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); printf 'ok - %s\n' "$*"; }
not_ok() { FAIL=$((FAIL + 1)); printf 'not ok - %s\n' "$*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; }
