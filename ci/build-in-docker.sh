#!/usr/bin/env bash
# ci/build-in-docker.sh ARCH DEST — the static binary for linux/ARCH, built
# inside Docker, copied to DEST: for a machine that cannot build it itself
# (no cargo, or neither rustup nor the musl target: a Mac with only Docker
# Desktop). ci/build.sh decides, and calls this.
#
# It builds the first stage ("build") of docker/multistage/Dockerfile, the
# one workshop step 2 builds, from the same context (ci/source-context.sh) with
# the same arguments: each one's layers are the other's cache. Then
# `docker create` + `docker cp` take /contributors out of that stage (no
# BuildKit needed: Docker's classic builder does it too). The stage's image
# stays, tagged IMAGE:build-ARCH, so the next build reuses its dependency
# layer; `make clean` removes it.
#
# The other architecture needs an engine that runs its programs (Docker
# Desktop does; on Linux, qemu in binfmt_misc, ci/qemu.sh) and a rust image
# of that architecture; compiling under emulation is slow.
# Env: IMAGE (default contributors).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
usage="usage: ci/build-in-docker.sh amd64|arm64 DEST"
arch=${1:?$usage}
dest=${2:?$usage}
IMAGE=${IMAGE:-contributors}
file=docker/multistage/Dockerfile
say() { printf 'build-in-docker: %s\n' "$*"; }
die() { printf 'build-in-docker: ERROR: %s\n' "$*" >&2; exit 1; }

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "no Docker engine answers (is Docker running, may this user use it?)"
rust_base=$(sed -n 's/^FROM \([^ ]*\) AS build$/\1/p' "$file")
[ -n "$rust_base" ] || die "$file has no 'FROM ... AS build' line"
if ! docker image inspect "$rust_base" >/dev/null 2>&1; then
  say "pulling $rust_base"
  docker pull -q "$rust_base" >/dev/null ||
    die "cannot pull $rust_base (an engine without a registry: workshop/rust-stand-in.sh builds a local stand-in)"
fi
# The engine's own architecture needs no --platform: the build then matches
# the workshop's (which names none) exactly.
platform=()
engine_arch=$(docker version --format '{{.Server.Arch}}')
[ "$engine_arch" = "$arch" ] || platform=(--platform "linux/$arch")

ctx=target/build-in-docker/context
stage=$IMAGE:build-$arch
bash ci/source-context.sh "$ctx"
say "building stage 'build' of $file for linux/$arch, as $stage (a first build takes minutes)"
log=target/build-in-docker/build.log
if ! docker build ${platform[@]+"${platform[@]}"} --target build -f "$file" -t "$stage" "$ctx" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  die "docker build failed (log: $log)"
fi
cached=$(grep -Ec 'Using cache|CACHED' "$log" || true)

cid=$(docker create "$stage")
tmp=$dest.tmp.$$
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; rm -f "$tmp"' EXIT
mkdir -p "$(dirname "$dest")"
docker cp "$cid:/contributors" "$tmp"
chmod 0755 "$tmp"
got=$(bash ci/elf.sh "$tmp")
[ "$got" = "$arch static" ] || die "the binary from $stage is '$got', not '$arch static'"
mv -f "$tmp" "$dest"   # a rename: a running $dest keeps its old file
say "OK $dest ($(wc -c <"$dest" | tr -d ' ') bytes, linux/$arch, static; $cached build steps from Docker's cache)"
