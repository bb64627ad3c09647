#!/usr/bin/env bash
# ci/bench.sh — `make bench`: build the static binary with and without
# mimalloc, measure both against a local fake GitHub, write BENCHMARKS.md.
#
#   bash ci/bench.sh                  # writes BENCHMARKS.md
#   BENCH_OUT=/tmp/b.md bash ci/bench.sh
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
#      and wrk on their cached answers.
# The measuring is ci/bench/bench.py (Python 3, standard library only).
#
# Bounded: every load run has a fixed duration, every wait a deadline, the
# fake GitHub exits by itself after 15 minutes. Traffic stays on 127.0.0.1
# (and the project's own containers). About 4-5 minutes when the builds are up
# to date; after a source change the three fat-LTO links add ~2 minutes, and a
# first build from nothing about 6.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=${BENCH_OUT:-BENCHMARKS.md}
IMAGE=${IMAGE:-contributors}
TARGET=x86_64-unknown-linux-musl
BENCH_DIR=target/bench

# Tools: wrk (load), musl-gcc (ring's C for musl), python3 (the measuring),
# curl (handy when reading the report by hand). perf is optional: only used
# to explain a missed throughput target.
bash ci/ensure-packages.sh wrk:wrk musl-gcc:musl-tools python3:python3 curl:curl file:file
bash ci/ensure-packages.sh perf:linux-perf >/dev/null 2>&1 ||
  echo "bench: perf not installable here; a MISS will be explained from /proc only" >&2
if command -v rustup >/dev/null 2>&1 &&
   ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi

# The builds. The mimalloc one gets its own target dir so the two binaries
# do not overwrite each other (and both stay incremental). fake-github is
# built exactly as the Makefile builds it, so the two share artifacts.
export CC_x86_64_unknown_linux_musl=musl-gcc
BUILD_MUSL="CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked --target $TARGET -p contributors"
BUILD_MIMALLOC="CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked --target $TARGET -p contributors --features mimalloc --target-dir target/bench-mimalloc"
# The default build again with symbols kept, for the profile the report shows
# if a throughput target is missed (same code; the shipped binary is stripped).
BUILD_SYMBOLS="CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked --target $TARGET -p contributors --config profile.release.strip=false --target-dir target/bench-symbols"
BUILD_FAKE="cargo build --release --locked -p fake-github --config profile.release.lto=false --config profile.release.codegen-units=16"
# Other people may edit the sources meanwhile: all binaries must come from one
# snapshot, so build until the sources hash the same before and after.
sources_hash() {
  find Cargo.toml Cargo.lock contributors ca-bundle -type f -not -path '*/target/*' -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}
start=$SECONDS
for attempt in 1 2 3; do
  before=$(sources_hash)
  for cmd in "$BUILD_MUSL" "$BUILD_MIMALLOC" "$BUILD_SYMBOLS" "$BUILD_FAKE"; do
    echo "bench: $cmd" >&2
    eval "$cmd"
  done
  mkdir -p "$BENCH_DIR"
  install -m 0755 "target/$TARGET/release/contributors" "$BENCH_DIR/contributors-musl"
  install -m 0755 "target/bench-mimalloc/$TARGET/release/contributors" "$BENCH_DIR/contributors-mimalloc"
  install -m 0755 "target/bench-symbols/$TARGET/release/contributors" "$BENCH_DIR/contributors-musl-symbols"
  install -m 0755 target/release/fake-github "$BENCH_DIR/fake-github"
  after=$(sources_hash)
  [ "$before" = "$after" ] && break
  echo "bench: the sources changed during the build (attempt $attempt); building again" >&2
done
[ "$before" = "$after" ] || { echo "bench: ERROR: the sources keep changing; try again later" >&2; exit 1; }
build_secs=$((SECONDS - start))
for b in "$BENCH_DIR"/contributors-*; do
  if ! file -L "$b" | grep -Eq 'statically linked|static-pie linked'; then
    echo "bench: ERROR: $b is not statically linked" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 ci/bench/bench.py \
  --variant "musl-malloc=$BENCH_DIR/contributors-musl" \
  --variant "mimalloc=$BENCH_DIR/contributors-mimalloc" \
  --fake "$BENCH_DIR/fake-github" \
  --image "$IMAGE" \
  --workdir "$work" \
  --out "$OUT" \
  --build-secs "$build_secs" \
  --command "$BUILD_MUSL" \
  --command "$BUILD_MIMALLOC" \
  --command "$BUILD_SYMBOLS" \
  --command "$BUILD_FAKE" \
  --sources "$after" \
  --symbols-binary "$BENCH_DIR/contributors-musl-symbols"
