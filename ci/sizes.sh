#!/usr/bin/env bash
# ci/sizes.sh [readme] — measure the three images and the binary, for each
# architecture (`make sizes`):
# a markdown table on stdout and in target/sizes.md. With `readme`, also put
# the table into README.md between its sizes:begin/end markers.
# The base column names the base each image was built on, and says when it
# was a local stand-in (ci/base-images.sh: for an engine that cannot pull).
# Then the bytes per crate (ci/bloat.sh), not part of the README table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IMAGE=${IMAGE:-contributors}
DIST=${DIST:-dist}
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB (%d bytes)", b / 1048576, b }'; }

mkdir -p target
{
  echo "| tag | platform | base | image size | binary size |"
  echo "| --- | --- | --- | --- | --- |"
  for v in scratch busybox debian; do
    for arch in amd64 arm64; do
      img=$IMAGE:$v-$arch
      bin=$(stat -c %s "$DIST/linux-$arch/contributors")
      base=$(sed -n 's/^FROM //p' "docker/$v/Dockerfile" | head -n1)
      standin=$(docker image inspect -f '{{index .Config.Labels "io.contributors.base.stand-in"}}' "$img" 2>/dev/null || true)
      case "$standin" in "" | "<no value>") ;; *) base="$base (local stand-in)" ;; esac
      echo "| $v-$arch | linux/$arch | $base | $(mib "$(docker image inspect -f '{{.Size}}' "$img")") | $(mib "$bin") |"
    done
  done
} | tee target/sizes.md
echo
bash ci/bloat.sh

if [ "${1:-}" = readme ]; then
  grep -q '<!-- sizes:begin -->' README.md && grep -q '<!-- sizes:end -->' README.md
  awk 'FNR == NR { table = table $0 "\n"; next }
       /<!-- sizes:begin -->/ { print; printf "%s", table; skip = 1; next }
       /<!-- sizes:end -->/ { skip = 0 }
       !skip' target/sizes.md README.md >README.md.tmp
  mv README.md.tmp README.md
  echo "sizes: README.md updated from target/sizes.md"
fi
