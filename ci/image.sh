#!/usr/bin/env bash
# ci/image.sh VARIANT ARCH NAME:TAG [BINARY] — build docker/VARIANT/Dockerfile
# around the ARCH binary (default $DIST/linux-ARCH/contributors) for
# linux/ARCH (`make image`, `make images`). The build context is a temp dir
# holding the binary and nothing else: nothing to send but ~3 MB, nothing to
# leak into the image by mistake.
#
# Reproducible: the same commit gives the same image ID. The labels take the
# crate's version, the git revision and the commit's time
# (SOURCE_DATE_EPOCH, from `git log`), never the clock; the binary is copied
# in with that time as its mtime; and the times the classic builder stamps
# into the image config are set to it too (ci/image-config.py).
#
# Made once: the image records what it was made of (the label
# io.contributors.recipe: a hash of the binary, the Dockerfile, the base
# image's ID and the labels), and a tag that already holds an image of the
# same recipe is left as it is. make's image targets are phony (the engine,
# not a file, knows which images exist), so every suite that needs an image
# asks for it again; this keeps that to a `docker image inspect`.
# Env: DIST (default dist), IMAGE (the label's value), NO_CACHE=1 (docker build
# --no-cache, and no recipe check).
# Needs Docker, git and a POSIX userland; python3 for the reproducible times.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=ci/lib.sh
. ci/lib.sh
usage="usage: ci/image.sh scratch|busybox|debian amd64|arm64 NAME:TAG [BINARY]"
variant=${1:?$usage}
arch=${2:?$usage}
tag=${3:?$usage}
DIST=${DIST:-dist}
bin=${4:-$DIST/linux-$arch/contributors}
# Whose image: IMAGE (make's), else the tag's name. Every image gets it as
# the label io.contributors.image, and the prune below goes by it.
name=${IMAGE:-${tag%:*}}
IMAGE_LABEL=io.contributors.image

SOURCE_DATE_EPOCH=$(commit_time)
# The workspace's version (Cargo.toml, [workspace.package]): read, not asked
# of cargo, which a machine that builds in Docker does not have.
version=$(awk -F'"' '/^\[/ { pkg = ($0 == "[workspace.package]") } pkg && /^version *=/ { print $2; exit }' Cargo.toml)
if revision=$(git rev-parse --short=12 HEAD 2>/dev/null); then
  git diff --quiet HEAD -- || revision=$revision-dirty
else
  revision=unknown
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/contributors" && chmod 0555 "$ctx/contributors"
TZ=UTC touch -t "$(utc_date "$SOURCE_DATE_EPOCH" %Y%m%d%H%M.%S)" "$ctx/contributors"
cp "docker/$variant/Dockerfile" "$ctx/Dockerfile"
# An engine that cannot pull holds the other architecture's base under its
# own tag, NAME-ARCH (ci/base-images.sh); build FROM that one.
if [ "$variant" != scratch ]; then
  BASE_ARCH=$arch BASE_IMAGES=$variant bash ci/base-images.sh
  base=$(sed -n 's/^FROM //p' "$ctx/Dockerfile" | head -n1)
  if docker image inspect "$base-$arch" >/dev/null 2>&1; then
    sed "s|^FROM $base\$|FROM $base-$arch|" "docker/$variant/Dockerfile" >"$ctx/Dockerfile"
    base=$base-$arch
  fi
  base_history=$(docker history -q "$base" | wc -l)   # the base's own entries
fi

recipe=$({ sha256 <"$ctx/contributors"; sha256 <"$ctx/Dockerfile"
  [ "$variant" = scratch ] || docker image inspect -f '{{.Id}}' "$base"
  echo "$arch $version $revision $SOURCE_DATE_EPOCH $name"; } | sha256)
made=$(docker image inspect -f '{{index .Config.Labels "io.contributors.recipe"}}' "$tag" 2>/dev/null || true)
if [ -z "${NO_CACHE:-}" ] && [ "$made" = "$recipe" ]; then
  echo "image: $tag is up to date (same binary, Dockerfile, base and labels)"
  exit 0
fi
echo "image: building $tag (linux/$arch) from docker/$variant/Dockerfile"
docker build -q ${NO_CACHE:+--no-cache} --platform "linux/$arch" -f "$ctx/Dockerfile" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  --build-arg CREATED="$(utc_date "$SOURCE_DATE_EPOCH" %Y-%m-%dT%H:%M:%SZ)" \
  --label "$IMAGE_LABEL=$name" --label "io.contributors.recipe=$recipe" \
  -t "$tag" "$ctx" >"$ctx/out" 2>&1 || { cat "$ctx/out" >&2; exit 1; }
if command -v python3 >/dev/null 2>&1; then
  python3 ci/image-config.py "$tag" --epoch "$SOURCE_DATE_EPOCH" --base-history "${base_history:-0}"
else
  echo "image: no python3 here: the image keeps the builder's times (it works; its ID is not reproducible)"
fi
# A new commit is a new image (its revision label changed): drop the untagged
# old ones of this IMAGE, and no one else's (the label says whose). Only
# those "created" over an hour ago: ours carry the commit's time, while an
# image another build has just made, not yet tagged, carries the clock's, and
# must not be pulled from under it.
docker image prune -f --filter "label=$IMAGE_LABEL=$name" --filter until=1h >/dev/null
echo "image: $tag $(docker image inspect -f '{{.Id}} {{.Os}}/{{.Architecture}} {{.Size}}' "$tag") bytes"
