#!/usr/bin/env bash
# ci/suites.sh SUITE... — `make test` and `make test-core`: runs each make
# target in turn, stops at the first that fails (`make -k`: goes on), and
# says how long each took:
#
#   == suite test-rust: 312 s
#
# and, at the end, every suite's time in one line, so a slow one stands out.
#
# A suite written `beside:NAME` goes to a second lane instead: those suites
# run one after another beside the others, from where the first of them
# stands in the list. A suite that mostly computes (a build inside Docker) beside
# suites that mostly wait (containers starting, downloads) keeps both cores
# busy. Each such suite's output goes to target/suites/NAME.log and is shown
# when the main lane has ended; its time is its own, in its lane. The run
# ends when both lanes have.
#
# Env: MAKE (the make that called us; default make). The command line's
# flags and variables (-k, IMAGE=..., DIST=...) reach each make through
# MAKEFLAGS, whose first word holds the one-letter flags.
set -euo pipefail
make=${MAKE:-make}
flags=${MAKEFLAGS:-}
flags=${flags%% *}   # e.g. "ks" for -k -s; empty, or "--...", when there are none
keep_going=false
case $flags in -*) ;; *k*) keep_going=true ;; esac
logs=target/suites
start=$SECONDS

# run SUITE: the make target, timed; prints its line and appends it to
# $times; returns make's status.
times=()
run() {
  local t0=$SECONDS status=0
  "$make" "$1" || status=$?
  local took="$1: $((SECONDS - t0)) s"
  if [ "$status" -eq 0 ]; then
    times+=("$took"); echo "== suite $took"
  else
    times+=("$took FAILED"); echo "== suite $took, FAILED (exit $status)"
  fi
  return "$status"
}

# The second lane: its suites in turn, each into its log, as `run` does;
# the lane's own summary in $logs/lane.times, its first failure its status.
beside=()
for suite in "$@"; do case $suite in beside:*) beside+=("${suite#beside:}") ;; esac; done
lane() {
  local suite failed=0 status
  for suite in "${beside[@]}"; do
    status=0
    run "$suite" >"$logs/$suite.log" 2>&1 || status=$?
    tail -n 1 "$logs/$suite.log" >>"$logs/lane.times"
    if [ "$status" -ne 0 ]; then
      [ "$failed" -ne 0 ] || failed=$status
      $keep_going || break
    fi
  done
  return "$failed"
}

failed=0
lane_pid=""
for suite in "$@"; do
  case $suite in
    beside:*)
      if [ -z "$lane_pid" ] && [ ${#beside[@]} -gt 0 ]; then
        mkdir -p "$logs"; : >"$logs/lane.times"
        echo "== suites beside the others, logs in $logs/: ${beside[*]}"
        lane & lane_pid=$!
      fi
      continue ;;
  esac
  status=0
  run "$suite" || status=$?
  if [ "$status" -ne 0 ]; then
    [ "$failed" -ne 0 ] || failed=$status
    $keep_going || break
  fi
done

if [ -n "$lane_pid" ]; then
  status=0
  wait "$lane_pid" || status=$?
  [ "$failed" -ne 0 ] || failed=$status
  for suite in "${beside[@]}"; do
    [ -f "$logs/$suite.log" ] || continue
    echo "== output of $suite (run beside the others)"
    cat "$logs/$suite.log"
  done
  while IFS= read -r line; do times+=("${line#== suite } (beside)"); done <"$logs/lane.times"
fi
summary=$(printf '%s, ' "${times[@]}")
echo "== suites, $((SECONDS - start)) s in all: ${summary%, }"
exit "$failed"
