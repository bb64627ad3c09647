#!/usr/bin/env bash
# ci/release.sh REGISTRY/OWNER VERSION — what .github/workflows/release.yml
# runs for a tag vVERSION: both architectures' binaries (make build), their
# SBOM (make sbom), the three images of both architectures, tested as CI
# tests them (make test-containers), then pushed (make push): one multi-arch
# list REGISTRY/OWNER/IMAGE:vVERSION, :MAJOR.MINOR and :latest (the scratch
# image), and the per-variant ones ci/push.sh makes.
# The release's files go to dist/release/: contributors-linux-amd64,
# contributors-linux-arm64 and the SBOM.
# Writes to $GITHUB_OUTPUT (when set) `image=` the pushed name and `digest=`
# the list's digest, for the provenance attestation.
# Env: IMAGE (the image's name under OWNER; default contributors).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
usage="usage: ci/release.sh REGISTRY/OWNER VERSION   (e.g. ghcr.io/me 1.2.3)"
registry=${1:?$usage}
version=${2:?$usage}
IMAGE=${IMAGE:-contributors}
case $version in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "release: VERSION must be MAJOR.MINOR.PATCH, not '$version'" >&2; exit 2 ;;
esac
minor=${version%.*}

make build sbom test-auditable
make images test-containers
rm -rf dist/release
mkdir -p dist/release
for arch in amd64 arm64; do cp "dist/linux-$arch/contributors" "dist/release/contributors-linux-$arch"; done
cp dist/contributors.cdx.json dist/release/
out=$(make --no-print-directory push REGISTRY="$registry" TAG="v$version $minor" | tee /dev/stderr)
digest=$(sed -n "s|^push: $registry/$IMAGE:latest -> .*(\(sha256:[0-9a-f]*\))\$|\1|p" <<<"$out")
[ -n "$digest" ] || { echo "release: no digest for $registry/$IMAGE:latest in make push's output" >&2; exit 1; }
echo "release: $registry/$IMAGE:v$version = $digest"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'image=%s\ndigest=%s\n' "$registry/$IMAGE" "$digest" >>"$GITHUB_OUTPUT"
fi
