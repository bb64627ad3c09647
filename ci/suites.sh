#!/usr/bin/env bash
# ci/suites.sh TARGET... — `make test` and `make test-core`: runs each make
# target in turn, stops at the first that fails, and says how long each took:
#
#   == suite test-rust: 312 s
#
# and, at the end, every suite's time in one line, so a slow one stands out.
# Env: MAKE (the make that called us; default make). The command line's
# variables (IMAGE=..., DIST=...) reach each make through MAKEFLAGS.
set -euo pipefail
make=${MAKE:-make}
start=$SECONDS
times=()
status=0
for suite in "$@"; do
  t0=$SECONDS
  status=0
  "$make" "$suite" || status=$?
  times+=("$suite $((SECONDS - t0)) s")
  if [ "$status" -ne 0 ]; then
    echo "== suite $suite: $((SECONDS - t0)) s, FAILED (exit $status)"
    break
  fi
  echo "== suite $suite: $((SECONDS - t0)) s"
done
summary=$(printf '%s, ' "${times[@]}")
echo "== suites, $((SECONDS - start)) s in all: ${summary%, }"
exit "$status"
