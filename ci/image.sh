#!/usr/bin/env bash
# ci/image.sh VARIANT BINARY NAME:TAG — build docker/VARIANT/Dockerfile around
# BINARY (`make image`, `make images`). The build context is a temp dir
# holding the binary and nothing else: nothing to send but ~3 MB, nothing to
# leak into the image by mistake. The labels get the crate's version, the git
# revision and the build time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
variant=${1:?usage: ci/image.sh VARIANT BINARY NAME:TAG}
bin=${2:?usage: ci/image.sh VARIANT BINARY NAME:TAG}
tag=${3:?usage: ci/image.sh VARIANT BINARY NAME:TAG}

[ "$variant" = scratch ] || BASE_IMAGES=$variant bash ci/base-images.sh
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
install -m 0555 "$bin" "$ctx/contributors"

version=$(cargo pkgid -p contributors | sed 's/.*[#@]//')
if revision=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  git diff --quiet HEAD -- || revision=$revision-dirty
else
  revision=unknown
fi
echo "image: building $tag from docker/$variant/Dockerfile"
docker build -q -f "docker/$variant/Dockerfile" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$tag" "$ctx" >"$ctx.out" 2>&1 || { cat "$ctx.out" >&2; rm -f "$ctx.out"; exit 1; }
rm -f "$ctx.out"
# Each build is a new image (the time label changed): drop our untagged old ones.
docker image prune -f --filter label=org.opencontainers.image.title=contributors >/dev/null
echo "image: $tag $(docker image inspect -f '{{.Size}}' "$tag") bytes"
