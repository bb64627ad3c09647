#!/usr/bin/env bash
# ci/suites.sh TARGET... — `make test` and `make test-core`: runs each make
# target in turn, stops at the first that fails (`make -k`: goes on), and
# says how long each took:
#
#   == suite test-rust: 312 s
#
# and, at the end, every suite's time in one line, so a slow one stands out.
# Env: MAKE (the make that called us; default make). The command line's
# flags and variables (-k, IMAGE=..., DIST=...) reach each make through
# MAKEFLAGS, whose first word holds the one-letter flags.
set -euo pipefail
make=${MAKE:-make}
flags=${MAKEFLAGS:-}
flags=${flags%% *}   # e.g. "ks" for -k -s; empty, or "--...", when there are none
keep_going=false
case $flags in -*) ;; *k*) keep_going=true ;; esac
start=$SECONDS
times=()
failed=0
for suite in "$@"; do
  t0=$SECONDS
  status=0
  "$make" "$suite" || status=$?
  took="$suite: $((SECONDS - t0)) s"
  if [ "$status" -eq 0 ]; then
    times+=("$took")
    echo "== suite $took"
  else
    times+=("$took FAILED")
    echo "== suite $took, FAILED (exit $status)"
    [ "$failed" -ne 0 ] || failed=$status
    $keep_going || break
  fi
done
summary=$(printf '%s, ' "${times[@]}")
echo "== suites, $((SECONDS - start)) s in all: ${summary%, }"
exit "$failed"
