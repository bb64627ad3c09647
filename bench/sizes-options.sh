#!/usr/bin/env bash
# bench/sizes-options.sh — what each size option of issue 13 is worth, in bytes
# of the stripped static binary (the binary is the scratch image's only layer).
#
#   bash bench/sizes-options.sh    # a markdown table on stdout and in bench/sizes-options.md
#
# `make bench` puts that file into BENCHMARKS.md (section 10); it is
# committed, so run this again after changing the profile or a feature.
#
# Each row is one fat-LTO release build of a copy of this checkout, changed in
# one way: a profile setting (`--config profile.release...`) or a feature
# switched off in the copy's manifests. The copy and its target dir live in a
# temporary folder that is removed at the end. Every build takes 2-4 minutes
# on a 2-core machine, so this is run by hand, not by `make bench`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
TARGET=${TARGET:-x86_64-unknown-linux-musl}
bash ci/toolchain.sh "$TARGET"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CARGO_TARGET_DIR=$tmp/target CARGO_INCREMENTAL=0

# fresh_copy DIR: the tracked files of this checkout, as they are now.
fresh_copy() {
  rm -rf "$1" && mkdir -p "$1"
  git ls-files -z | xargs -0 cp --parents -t "$1"
}

# size DIR CARGO_ARGS...: build the app in DIR, print the binary's bytes.
size() {
  local dir=$1
  shift
  # ring's C by zig, linked by rust-lld, as the shipped binary (ci/zig.sh).
  (cd "$dir" && bash "$root/ci/zig.sh" cargo zigbuild -q --release -p contributors --target "$TARGET" "$@" >&2)
  stat -c %s "$CARGO_TARGET_DIR/$TARGET/release/contributors"
}

fresh_copy "$tmp/src"
base=$(size "$tmp/src")
s_level=$(size "$tmp/src" --config 'profile.release.opt-level="s"')
cgu16=$(size "$tmp/src" --config profile.release.codegen-units=16)
thin=$(size "$tmp/src" --config 'profile.release.lto="thin"' --config profile.release.codegen-units=16)
# The HTTP/2 client: the server is HTTP/1.1 only, so h2 is only GitHub's side.
h2=$(size "$tmp/src" --features http2-upstream)

# The two link options of contributors/build.rs, each taken out in a copy.
fresh_copy "$tmp/rela"
sed -i '/pack-relative-relocs/d' "$tmp/rela/contributors/build.rs"
rela=$(size "$tmp/rela")
fresh_copy "$tmp/unwind"
sed -i '/no-eh-frame-hdr/d; /-Wl,-T,/d' "$tmp/unwind/contributors/build.rs"
unwind=$(size "$tmp/unwind")

# TLS 1.3 only toward GitHub (and a proxy's target).
fresh_copy "$tmp/no-tls12"
sed -i -E 's/, "tls12"//' "$tmp/no-tls12/Cargo.toml" "$tmp/no-tls12/contributors/Cargo.toml"
no_tls12=$(size "$tmp/no-tls12")

delta() { awk -v b="$base" -v n="$1" 'BEGIN { printf "%d bytes (%+d)", n, n - b }'; }
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
{
  echo "| option | how | stripped binary |"
  echo "| --- | --- | --- |"
  row "as shipped: opt-level z, fat LTO, 1 codegen unit; packed relocations, no unwind tables; HTTP/1.1 client" \
    "Cargo.toml [profile.release], contributors/build.rs" "$base bytes"
  row "opt-level s" "--config profile.release.opt-level=\"s\"" "$(delta "$s_level")"
  row "fat LTO, 16 codegen units" "--config profile.release.codegen-units=16" "$(delta "$cgu16")"
  row "thin LTO, 16 codegen units" "--config profile.release.lto=\"thin\" + codegen-units=16" "$(delta "$thin")"
  row "HTTP/2 client too" "--features http2-upstream" "$(delta "$h2")"
  row "relocations unpacked (.rela.dyn)" "build.rs without -z pack-relative-relocs" "$(delta "$rela")"
  row "unwind tables kept (.eh_frame)" "build.rs without no-unwind-tables.ld" "$(delta "$unwind")"
  row "no TLS 1.2" "rustls, tokio-rustls, hyper-rustls without tls12" "$(delta "$no_tls12")"
} | tee bench/sizes-options.md.tmp
mv bench/sizes-options.md.tmp bench/sizes-options.md
