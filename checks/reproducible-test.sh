#!/usr/bin/env bash
# checks/reproducible-test.sh — two clean builds of this commit give the same
# binary, byte for byte, and the same image ID (`make test-reproducible`).
#
# Build 1 is the one `make build` and `make image` made:
# dist/linux-amd64/contributors and $IMAGE:scratch-amd64. Build 2 starts from nothing, the way
# a stranger's machine would: the workspace's files copied to another
# directory (so every source path differs), a fresh cargo target dir, then
# ci/build.sh and ci/image.sh with docker build --no-cache. Then:
#   - the two binaries are the same bytes (`cmp`);
#   - the two images have the same ID (the ID is the digest of the config,
#     which names the layers' digests: same ID, same bytes in every layer);
#   - the image's created label is the commit's time, not the clock's.
# Cost: one full release build (fat LTO) of amd64, ~2-3 minutes on 2 cores;
# arm64 goes through the same scripts and is not built a third time here.
# Ends with `N passed, M failed`; exits 1 if any failed.
# Env: IMAGE (default contributors), DIST (default dist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IMAGE=${IMAGE:-contributors}
DIST=${DIST:-dist}
. ci/lib.sh

first_bin=$DIST/linux-amd64/contributors
first_image=$IMAGE:scratch-amd64
second_image=$IMAGE:reproducible-check
work=target/reproducible
trap 'rm -rf "$work"; docker rmi "$second_image" >/dev/null 2>&1 || true' EXIT
[ -f "$first_bin" ] || { not_ok "$first_bin exists (run: make build)"; finish; exit 1; }
docker image inspect "$first_image" >/dev/null 2>&1 || { not_ok "$first_image exists (run: make images)"; finish; exit 1; }

# The workspace as a clone has it (tracked and new files, not ignored ones),
# in another directory. Outside a git checkout (the copy that
# without-extras-test makes), every file but the build outputs.
rm -rf "$work"
mkdir -p "$work/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard
else
  find . \( -path ./target -o -path ./dist \) -prune -o -type f -print0
fi | xargs -0 cp --parents -t "$work/src" 2>/dev/null || true
[ -f "$work/src/Cargo.toml" ] || { not_ok "copy the workspace to $work/src"; finish; exit 1; }
t0=$SECONDS
second_bin=$PWD/$work/contributors
if (cd "$work/src" && CARGO_TARGET_DIR=$PWD/target ARCH=amd64 bash ci/build.sh app "$second_bin") >"$work/build.log" 2>&1; then
  ok "build 2: a clean release build in $work/src ($((SECONDS - t0)) s)"
else
  not_ok "build 2: a clean release build in $work/src"; tail -n 20 "$work/build.log" | sed 's/^/#   /'; finish; exit 1
fi
a=$(sha256 <"$first_bin" | cut -c1-16) b=$(sha256 <"$second_bin" | cut -c1-16)
check "the binaries are the same bytes (sha256 $a… and $b…)" cmp -s "$first_bin" "$second_bin"

NO_CACHE=1 bash ci/image.sh scratch amd64 "$second_image" "$second_bin" >"$work/image.log" 2>&1 ||
  { not_ok "build 2: ci/image.sh"; sed 's/^/#   /' "$work/image.log"; }
id1=$(docker image inspect -f '{{.Id}}' "$first_image")
id2=$(docker image inspect -f '{{.Id}}' "$second_image" 2>/dev/null || echo none)
check "the images have the same ID ($first_image ${id1:7:12}, $second_image ${id2:7:12})" test "$id1" = "$id2"

want=$(date -u -d "@$(commit_time)" +%Y-%m-%dT%H:%M:%SZ)
got=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.created"}} {{.Created}}' "$first_image")
check "created label and image time are the commit's ($want; got $got)" test "$got" = "$want $want"
finish
