#!/usr/bin/env bash
# ci/auditable-test.sh — can a scanner tell what is inside the shipped binary?
# (`make test-auditable`)
#
# The release build goes through cargo-auditable (ci/build.sh), which embeds
# the dependency tree, compressed, in a section of the binary (.dep-v0): what
# `cargo audit bin`, trivy, grype and syft read in a FROM scratch image,
# where there is no package database. This reads it back from
# $DIST/contributors with rust-audit-info and checks that it names hyper,
# rustls and webpki-roots at the versions Cargo.lock pins; then, where
# `make sbom` has made it (the release does: make sbom test-auditable), that
# the CycloneDX SBOM ($DIST/contributors.cdx.json) names them too.
# A few seconds. Ends with `N passed, M failed`; exits 1 if any failed.
# Env: DIST (default dist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. ci/lib.sh
DIST=${DIST:-dist}
bin=$DIST/contributors
sbom=$DIST/contributors.cdx.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash ci/toolchain.sh rust-audit-info@0.5.4
# locked NAME: "NAME VERSION" for each version Cargo.lock pins NAME at.
locked() {
  awk -v n="\"$1\"" '/^\[\[package\]\]/ { name = "" } $1 == "name" { name = $3 }
    $1 == "version" && name == n { gsub(/"/, "", $3); print substr(n, 2, length(n) - 2), $3 }' Cargo.lock
}
# packages JSON-FILE EXPR: "NAME VERSION" for each package EXPR lists (Python,
# over the parsed document `doc`).
packages() {
  python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
for p in eval(sys.argv[2]): print(p["name"], p["version"])' "$1" "$2" | sort -u
}

if rust-audit-info "$bin" >"$tmp/audit.json" 2>"$tmp/audit.err"; then
  ok "rust-audit-info reads the dependency list embedded in $bin ($(packages "$tmp/audit.json" 'doc["packages"]' | wc -l) packages)"
else
  not_ok "rust-audit-info reads the dependency list embedded in $bin: $(cat "$tmp/audit.err")"
fi
if [ -e "$sbom" ]; then
  check "$sbom is not empty ($(wc -c <"$sbom") bytes)" test -s "$sbom"
else
  echo "# $sbom: not made here (make sbom makes it; the release checks it)"
fi
# pinned GOT WANT: GOT names at least one version, and only versions of WANT.
pinned() {
  [ -n "$1" ] || return 1
  while IFS= read -r line; do grep -qxF "$line" <<<"$2" || return 1; done <<<"$1"
}
for crate in hyper rustls webpki-roots; do
  want=$(locked "$crate")
  [ -n "$want" ] || { not_ok "Cargo.lock pins $crate"; continue; }
  got=$(packages "$tmp/audit.json" 'doc["packages"]' 2>/dev/null | grep "^$crate " || true)
  check "the embedded list names $(tr '\n' ' ' <<<"$want")(got: $(tr '\n' ' ' <<<"${got:-nothing}"))" \
    pinned "$got" "$want"
  [ -e "$sbom" ] || continue
  got=$(packages "$sbom" 'doc.get("components", [])' 2>/dev/null | grep "^$crate " || true)
  check "the SBOM names $(tr '\n' ' ' <<<"$want")(got: $(tr '\n' ' ' <<<"${got:-nothing}"))" \
    pinned "$got" "$want"
done
finish
