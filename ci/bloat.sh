#!/usr/bin/env bash
# ci/bloat.sh — where the binary's bytes go, crate by crate (called by
# ci/sizes.sh, so `make sizes` shows it): cargo-bloat on the release build
# with its symbols kept. Stripping removes only the names, so the code and
# data counted here are those of the shipped binary. A markdown section on
# stdout and in target/bloat.md.
#
# cargo-bloat is installed from crates.io if it is missing. The build goes
# to target/bench-symbols, so it does not disturb the release build.
# cargo-bloat runs plain `cargo build`, which cargo-zigbuild cannot wrap: here
# ring's C is compiled by Debian's musl-gcc (the cc crate picks it by itself
# for x86_64 musl) and cc links, where the shipped binary has zig and
# rust-lld (ci/zig.sh), so `[Unknown]` (musl, ring's C) and the file's total
# may differ from it a little; the Rust rows are the same code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET=${TARGET:-x86_64-unknown-linux-musl}
command -v cargo-bloat >/dev/null || cargo install cargo-bloat --locked
bash ci/ensure-packages.sh musl-gcc:musl-tools size:binutils
bash ci/toolchain.sh "$TARGET"

table=$(CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/bench-symbols} CARGO_PROFILE_RELEASE_STRIP=false \
  cargo bloat --release -p contributors --bin contributors --target "$TARGET" --crates -n 30)
binary=${CARGO_TARGET_DIR:-target/bench-symbols}/$TARGET/release/contributors
{
  echo "### Per crate (cargo bloat --crates, $TARGET)"
  echo
  echo '```'
  echo "$table"
  echo '```'
  echo
  echo "### Per section (size -A; the names and debug sections are what strip removes)"
  echo
  echo '```'
  size -A "$binary" | awk 'NR > 2 && $1 !~ /^\.(debug|symtab|strtab|comment)/ && NF == 3'
  echo '```'
} | tee target/bloat.md
