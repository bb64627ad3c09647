#!/usr/bin/env bash
# workshop/docker-only-test.sh — `make image` on a machine with Docker and
# nothing else (`make docker-only-test`): half of a workshop room has a Mac
# with Docker Desktop, no Rust, no musl, no `file`, no GNU userland.
#
# The nearest this machine has: PATH limited to a folder of busybox applets
# (Debian's busybox-static) plus make, docker, git and bash. There,
#   make image IMAGE=<IMAGE>-docker-only-test DIST=target/docker-only/dist
# must say it builds in Docker, build the binary from the build stage of
# docker/multistage/Dockerfile, package it as usual, and the image must
# serve /healthz. An engine that cannot pull gets the rust image as the
# workshop gets it (workshop/rust-stand-in.sh).
#
# Cost: that build stage is workshop step 2's, same context, same arguments:
# after `make workshop-test` every layer is in Docker's cache and this takes
# seconds (it prints how many steps came from the cache); alone, on a cold
# engine, it is a release build inside Docker (minutes).
# Ends with `N passed, M failed`; exits 1 if any failed. Env: IMAGE (default contributors).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IMAGE=${IMAGE:-contributors}
CONTAINER_LABEL=io.contributors.test=1
. ci/containers.sh

test_image=$IMAGE-docker-only-test
work=target/docker-only
arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
rust_base=$(sed -n 's/^FROM \([^ ]*\) AS build$/\1/p' docker/multistage/Dockerfile)

# The build stage's image stays as the cache, under this checkout's own name
# (`make clean` removes it); the test's tags go.
drop_images() {
  local t
  docker image inspect "$test_image:build-$arch" >/dev/null 2>&1 &&
    docker tag "$test_image:build-$arch" "$IMAGE:build-$arch"
  for t in "build-$arch" "scratch-$arch" scratch latest; do
    docker rmi "$test_image:$t" >/dev/null 2>&1 || true
  done
}
trap 'cleanup; drop_images' EXIT

bash ci/ensure-packages.sh /bin/busybox:busybox-static
bash workshop/rust-stand-in.sh "$rust_base"

# The PATH: busybox's applets, then make, docker, git and bash.
rm -rf "$work"
mkdir -p "$work/bin"
for applet in $(/bin/busybox --list); do ln -s /bin/busybox "$work/bin/$applet"; done
for tool in make docker git bash; do ln -sf "$(command -v "$tool")" "$work/bin/$tool"; done
path=$PWD/$work/bin
missing=""
for tool in cargo rustc file python3 perl; do
  PATH=$path command -v "$tool" >/dev/null 2>&1 && missing="$missing $tool"
done
check "the limited PATH has no cargo, rustc, file, python3, perl${missing:+ (found:$missing)}" test -z "$missing"

t0=$SECONDS
rc=0
env -i HOME="$HOME" PATH="$path" ${DOCKER_HOST:+DOCKER_HOST="$DOCKER_HOST"} \
  make --no-print-directory image IMAGE="$test_image" DIST="$work/dist" >"$work/make.log" 2>&1 || rc=$?
secs=$((SECONDS - t0))
if [ "$rc" = 0 ]; then ok "make image with Docker alone exits 0 ($secs s)"
else not_ok "make image with Docker alone exits 0 (exit $rc after $secs s)"; tail -n 30 "$work/make.log" | sed 's/^/#   /'; fi
check "it says it builds in Docker: 'build: ... on docker: no cargo here'" \
  grep -q '^build: [a-z0-9_]*-unknown-linux-musl on docker: no cargo here$' "$work/make.log"
grep '^build-in-docker: OK' "$work/make.log" | sed 's/^/# /' || true
check "$work/dist/contributors is a static linux/$arch binary" \
  test "$(bash ci/elf.sh "$work/dist/contributors" 2>&1)" = "$arch static"

if docker image inspect "$test_image:latest" >/dev/null 2>&1; then
  label=$(docker image inspect -f '{{index .Config.Labels "io.contributors.image"}}' "$test_image:latest")
  check "the image is labelled io.contributors.image=$test_image (got '$label')" test "$label" = "$test_image"
  start "docker-only-test-$$" -p 127.0.0.1::8080 "$test_image:latest"
  port=$(docker port "docker-only-test-$$" 8080/tcp | head -n1 | sed 's/.*://')
  check "the image serves: GET /healthz -> 200 on 127.0.0.1:$port" wait_200 "http://127.0.0.1:$port/healthz"
else
  not_ok "make image made $test_image:latest"
fi
finish
