#!/usr/bin/env bash
# bench/bench.sh — `make bench`: build the static binary with and without
# mimalloc, measure both against a local fake GitHub, write BENCHMARKS.md.
#
#   bash bench/bench.sh                  # writes BENCHMARKS.md
#   BENCH_OUT=/tmp/b.md bash bench/bench.sh
#
# What it measures (details and the exact commands land in the report):
#   1. wrk req/s and p50/p99 for /, a cached contributors page and a cached
#      avatar; 256 connections for 30 s with the error count; RSS idle and
#      under load; binary sizes; which allocator wins, by a stated rule;
#   2. exec → first 200 on /healthz (raw-socket poller, median of 21);
#   3. upstream requests and TLS handshakes per 1,000 page views;
#   4. image sizes and `docker stop` time (if an engine and the images exist);
#   5. the targets with PASS/MISS, and evidence for each MISS;
#   6. bytes on the wire for /, a 100- and a 500-contributor page, identity
#      against gzip;
#   7. the wall and the JSON API: bytes for 12, 100 and 500 contributors,
#      and wrk on their cached answers;
#   8. hostile clients (a silent-connection flood, a slow-reader flood),
#      and the GitHub client: the shipped build (HTTP/1.1) against the one
#      with the http2-upstream feature, on a burst of cold lookups;
#   9. the app against bare hyper (bench/baseline, issue 13): the same bytes
#      and headers, the servers taking turns, the ratio with its spread, the
#      cost per request (CPU time, and instructions counted by callgrind),
#      and a profile of where the app's time goes;
#  10. the binary's size against 2 MiB, what each size option is worth
#      (bench/sizes-options.md, from bench/sizes-options.sh, run by hand:
#      it makes eight fat-LTO builds) and the bytes per crate (ci/bloat.sh).
# The measuring is bench/bench.py (Python 3, standard library only).
#
# Bounded: every load run has a fixed duration, every wait a deadline, the
# fake GitHub exits by itself after 25 minutes. Traffic stays on 127.0.0.1
# (and the project's own containers). About 12 minutes of measuring; the
# builds (seven fat-LTO links) add about 3 minutes after a source change, and
# 10 or more from nothing. BENCHMARKS.md records both durations.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=${BENCH_OUT:-BENCHMARKS.md}
IMAGE=${IMAGE:-contributors}
BENCH_DIR=target/bench

# Tools: wrk (load), python3 (the measuring), curl (handy when reading the
# report by hand). perf is optional: only used to explain a missed
# throughput target.
bash ci/ensure-packages.sh wrk:wrk python3:python3 curl:curl
bash ci/ensure-packages.sh perf:linux-perf >/dev/null 2>&1 ||
  echo "bench: perf not installable here; a MISS will be explained from /proc only" >&2
# valgrind (optional too): section 9's instructions per request, a count
# that does not move with the machine's load.
bash ci/ensure-packages.sh valgrind:valgrind >/dev/null 2>&1 ||
  echo "bench: valgrind not installable here; section 9 leaves out instructions per request" >&2

# The builds, once, by ci/build.sh as `make build` does (static check
# included). The mimalloc one gets its own target dir so the two binaries do
# not overwrite each other (and both stay incremental); the third is the
# default build with symbols kept, for the profile the report shows if a
# throughput target is missed (same code; the shipped binary is stripped).
COMMANDS=()
build() { echo "bench: $*" >&2; COMMANDS+=("--command=$*"); env "$@"; }
start=$SECONDS
build bash ci/build.sh app "$BENCH_DIR/contributors-musl"
build CARGO_TARGET_DIR=target/bench-mimalloc bash ci/build.sh app "$BENCH_DIR/contributors-mimalloc" --features mimalloc
build CARGO_TARGET_DIR=target/bench-symbols bash ci/build.sh app "$BENCH_DIR/contributors-musl-symbols" \
  --config profile.release.strip=false
# The client with HTTP/2 (a feature, off in the shipped build), for section 8.
build CARGO_TARGET_DIR=target/bench-http2 bash ci/build.sh app "$BENCH_DIR/contributors-http2" \
  --features http2-upstream
build bash ci/build.sh fake-github "$BENCH_DIR/fake-github"
# The bare hyper baseline: same lock file, release profile and target as the app.
build cargo build --release -p baseline --target "${TARGET:-x86_64-unknown-linux-musl}"
install -m 0755 "target/${TARGET:-x86_64-unknown-linux-musl}/release/baseline" "$BENCH_DIR/baseline"
# Both again with opt-level s instead of the profile's z: what the size costs in speed (section 9).
build CARGO_TARGET_DIR=target/bench-s bash ci/build.sh app "$BENCH_DIR/contributors-s" \
  --config 'profile.release.opt-level="s"'
build CARGO_TARGET_DIR=target/bench-s cargo build --release -p baseline \
  --target "${TARGET:-x86_64-unknown-linux-musl}" --config 'profile.release.opt-level="s"'
install -m 0755 "target/bench-s/${TARGET:-x86_64-unknown-linux-musl}/release/baseline" "$BENCH_DIR/baseline-s"
build bash ci/bloat.sh  # the symbols build above, per crate -> target/bloat.md
build_secs=$((SECONDS - start))
sources=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || sources=$sources-dirty

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/bench.py \
  --variant "musl-malloc=$BENCH_DIR/contributors-musl" \
  --variant "mimalloc=$BENCH_DIR/contributors-mimalloc" \
  --fake "$BENCH_DIR/fake-github" \
  --image "$IMAGE" \
  --workdir "$work" \
  --out "$OUT" \
  --build-secs "$build_secs" \
  "${COMMANDS[@]}" \
  --sources "$sources" \
  --symbols-binary "$BENCH_DIR/contributors-musl-symbols" \
  --baseline "$BENCH_DIR/baseline" \
  --http2-binary "$BENCH_DIR/contributors-http2" \
  --app-s "$BENCH_DIR/contributors-s" --baseline-s "$BENCH_DIR/baseline-s" \
  --sizes-options bench/sizes-options.md \
  --bloat target/bloat.md
