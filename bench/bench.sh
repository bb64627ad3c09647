#!/usr/bin/env bash
# bench/bench.sh — `make bench`: build the static binary with and without
# mimalloc, measure both against a local fake GitHub, write BENCHMARKS.md.
#
#   bash bench/bench.sh                  # writes BENCHMARKS.md
#   BENCH_OUT=/tmp/b.md bash bench/bench.sh
#   BENCH_QUICK=1 bash bench/bench.sh    # short runs that test the scripts, not a
#                                        # benchmark: to target/bench/BENCHMARKS-quick.md
#
# What it measures (BENCHMARKS.md's hand-written part says how to read it):
#   1. wrk req/s and p50/p99 for /, a cached contributors page and a cached
#      avatar; 256 connections for 30 s with the error count; RSS idle and
#      under load; which allocator wins, by a stated rule;
#   2. exec → first 200 on /healthz (raw-socket poller, median of 21);
#   3. upstream requests and TLS handshakes per 1,000 page views;
#   4. bytes on the wire for /, a 100- and a 500-contributor page;
#   5. the wall and the JSON API: bytes for 12, 100 and 500 contributors,
#      and wrk on their cached answers;
#   6. the app against bare hyper (bench/baseline) sending the same bytes, on
#      / and a cached page, the servers taking turns: the ratios with their
#      spread, and the cost per request (CPU time, callgrind's instructions);
#   7. the same on many repositories: a Zipf and a uniform mix over 900
#      cached pages, at the default log level and at warn;
#   8. floods (bench/floods.py): issue 24's hostile clients on a fresh
#      process each, with their peak RSS and the issue's bounds;
#   9. cold views (bench/cold.py): a fresh app against a far-away fake
#      GitHub (100 ms an answer), page and wall, against round-trip goals;
#   10. the binary's size against 2 MiB, what each size option is worth
#      (bench/sizes-options.md, from bench/sizes-options.sh, run by hand:
#      it makes eight fat-LTO builds) and the bytes per crate (ci/bloat.sh).
# The measuring is bench/bench.py (Python 3, standard library only).
#
# Bounded: every load run has a fixed duration, every wait a deadline, the
# fake GitHub exits by itself after 25 minutes. Traffic stays on 127.0.0.1.
# About 12 minutes of measuring; the builds (four fat-LTO links) add a few
# minutes after a source change, and 10 or more from nothing. BENCHMARKS.md
# records both durations.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=${BENCH_OUT:-BENCHMARKS.md}
if [ "${BENCH_QUICK:-}" = 1 ]; then # a quick run's report is no benchmark: elsewhere unless told
  OUT=${BENCH_OUT:-target/bench/BENCHMARKS-quick.md}
fi
BENCH_DIR=target/bench
TARGET=${TARGET:-x86_64-unknown-linux-musl}

# Tools: wrk (load), python3 (the measuring), curl (handy when reading the
# report by hand); valgrind is optional: section 6's instructions per
# request, a count that does not move with the machine's load.
bash ci/ensure-packages.sh wrk:wrk python3:python3 curl:curl
bash ci/ensure-packages.sh valgrind:valgrind >/dev/null 2>&1 ||
  echo "bench: valgrind not installable here; section 6 leaves out instructions per request" >&2

# The builds, once, by ci/build.sh as `make build` does (static check
# included). The mimalloc one gets its own target dir so the two binaries do
# not overwrite each other (and both stay incremental).
COMMANDS=()
build() { echo "bench: $*" >&2; COMMANDS+=("--command=$*"); env "$@"; }
start=$SECONDS
build bash ci/build.sh app "$BENCH_DIR/contributors-musl"
build CARGO_TARGET_DIR=target/bench-mimalloc bash ci/build.sh app "$BENCH_DIR/contributors-mimalloc" --features mimalloc
build bash ci/build.sh fake-github "$BENCH_DIR/fake-github" --release
# The bare hyper baseline: same lock file, release profile and target as the app.
build cargo build --release -p baseline --target "$TARGET"
install -m 0755 "target/$TARGET/release/baseline" "$BENCH_DIR/baseline"
build bash ci/bloat.sh  # a build with symbols kept, per crate -> target/bloat.md
build_secs=$((SECONDS - start))
sources=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || sources=$sources-dirty

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/bench.py \
  --variant "musl-malloc=$BENCH_DIR/contributors-musl" \
  --variant "mimalloc=$BENCH_DIR/contributors-mimalloc" \
  --fake "$BENCH_DIR/fake-github" \
  --baseline "$BENCH_DIR/baseline" \
  --workdir "$work" \
  --out "$OUT" \
  --preamble BENCHMARKS.md \
  --build-secs "$build_secs" \
  "${COMMANDS[@]}" \
  --sources "$sources" \
  --sizes-options bench/sizes-options.md \
  --bloat target/bloat.md
