#!/usr/bin/env bash
# ci/push.sh REGISTRY — share the images (`make push REGISTRY=host:port`).
#
# Pushes each architecture's image as REGISTRY/IMAGE:VARIANT-ARCH
# (scratch-amd64, scratch-arm64, busybox-..., debian-...), then, for each
# variant, one multi-arch tag REGISTRY/IMAGE:VARIANT: a manifest list that
# names both, so `docker pull` (or `docker run`, or a Kubernetes node) gets
# the one for its own machine. :latest and :TAG are the scratch list.
# Uses what `make images` built; builds nothing.
#
# A registry on localhost/127.x may speak plain HTTP: Docker's engine allows
# that for loopback anyway, and `docker manifest` is told --insecure.
# Elsewhere, `docker login REGISTRY` first, as for any push.
# Env: IMAGE (default contributors), TAG (default latest; several tags,
# space-separated, e.g. "v1.2.3 1.2": each names the scratch list).
set -euo pipefail
registry=${1:?usage: ci/push.sh REGISTRY   (e.g. make push REGISTRY=ghcr.io/you or 127.0.0.1:5000)}
IMAGE=${IMAGE:-contributors}
TAG=${TAG:-latest}
ARCHS="amd64 arm64"
repo=$registry/$IMAGE
insecure=()
case $registry in localhost:* | localhost | 127.*) insecure=(--insecure) ;; esac
say() { printf 'push: %s\n' "$*"; }

for v in scratch busybox debian; do
  refs=()
  for a in $ARCHS; do
    docker tag "$IMAGE:$v-$a" "$repo:$v-$a"
    docker push -q "$repo:$v-$a" >/dev/null
    say "$repo:$v-$a ($(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$IMAGE:$v-$a"))"
    refs+=("$repo:$v-$a")
  done
  lists=("$v")
  read -r -a tags <<<"$TAG"
  [ "$v" = scratch ] && lists+=(latest "${tags[@]}")
  for t in $(printf '%s\n' "${lists[@]}" | awk '!seen[$0]++'); do
    docker manifest create "${insecure[@]}" --amend "$repo:$t" "${refs[@]}" >/dev/null
    digest=$(docker manifest push "${insecure[@]}" --purge "$repo:$t")
    say "$repo:$t -> ${refs[*]##*:} ($digest)"
  done
done
