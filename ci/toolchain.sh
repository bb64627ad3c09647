#!/usr/bin/env bash
# ci/toolchain.sh [TARGET...] — make sure rustup has what the build and the
# tests use: rustfmt, clippy, and the standard library of each TARGET (for
# the static binary: x86_64-unknown-linux-musl). Quick when all is there.
# Without rustup (a distribution's Rust), it checks nothing and says so.
set -euo pipefail
if ! command -v rustup >/dev/null 2>&1; then
  echo "toolchain: no rustup here; assuming rustfmt, clippy and ${*:-no extra targets} are installed" >&2
  exit 0
fi
installed=$(rustup component list --installed 2>/dev/null)
for c in rustfmt clippy; do
  grep -q "^$c" <<<"$installed" || timeout 300 rustup component add "$c"
done
for t in "$@"; do
  grep -qx "rust-std-$t" <<<"$installed" || timeout 300 rustup target add "$t"
done
