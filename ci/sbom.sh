#!/usr/bin/env bash
# ci/sbom.sh DEST — the CycloneDX SBOM (JSON) of the shipped binary: the
# crates the app is built from, at Cargo.lock's versions, with their
# licences and package URLs (`make sbom`; attached to each GitHub release,
# after `make test-auditable` has checked it). cargo-cyclonedx, pinned, installed by ci/toolchain.sh.
# Only what is built into it (no build dependencies; dev ones never count), for the musl target the
# binary is built for. The binary itself carries the same list
# (cargo-auditable, ci/build.sh); ci/auditable-test.sh checks both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dest=${1:?usage: ci/sbom.sh DEST}
name=sbom-$$   # cargo-cyclonedx writes NAME.json next to each member's Cargo.toml
bash ci/toolchain.sh cargo-cyclonedx@0.5.9
trap 'find . -path ./target -prune -o -name "$name.json" -exec rm -f {} +' EXIT
cargo cyclonedx --quiet --format json --no-build-deps --target "$(uname -m)-unknown-linux-musl" \
  --override-filename "$name"
mkdir -p "$(dirname "$dest")"
mv -f "contributors/$name.json" "$dest.tmp" && mv -f "$dest.tmp" "$dest"
echo "sbom: $dest ($(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1])).get("components", [])))' "$dest") components)"
