#!/usr/bin/env bash
# ci/toolchain.sh [TARGET | TOOL@VERSION ...] — make sure rustup has what the
# build and the tests use: rustfmt, clippy, and the standard library of each
# TARGET (for the static binary: x86_64-unknown-linux-musl); and that each
# cargo TOOL (a crates.io crate with a binary of that name, e.g.
# cargo-auditable@0.7.7) is installed at exactly VERSION (`cargo install
# --locked`, into cargo's own bin folder, once). Quick when all is there.
# Without rustup (a distribution's Rust), it checks no components or targets
# and says so.
set -euo pipefail
targets=() tools=()
for arg in "$@"; do
  case $arg in *@*) tools+=("$arg") ;; *) targets+=("$arg") ;; esac
done
[ ${#tools[@]} -gt 0 ] && installed_tools=$(cargo install --list)   # "NAME vVERSION:" lines
for tool in ${tools[@]+"${tools[@]}"}; do
  name=${tool%@*} version=${tool#*@}
  grep -qx "$name v$version:" <<<"$installed_tools" && continue
  echo "toolchain: installing $name $version (cargo install --locked, once)" >&2
  timeout 900 cargo install --quiet --locked "$name@$version"
done
if ! command -v rustup >/dev/null 2>&1; then
  echo "toolchain: no rustup here; assuming rustfmt, clippy and ${targets[*]:-no extra targets} are installed" >&2
  exit 0
fi
installed=$(rustup component list --installed 2>/dev/null)
for c in rustfmt clippy; do
  grep -q "^$c" <<<"$installed" || timeout 300 rustup component add "$c"
done
for t in ${targets[@]+"${targets[@]}"}; do
  grep -qx "rust-std-$t" <<<"$installed" || timeout 300 rustup target add "$t"
done
