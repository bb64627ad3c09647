#!/usr/bin/env bash
# ci/source-context.sh DIR — DIR becomes a build context for
# docker/multistage/Dockerfile (and workshop/Dockerfile): the workspace as a
# clone has it (Cargo.toml, Cargo.lock, the member crates' tracked and new
# files, not ignored ones) and nothing else, so that a docs edit does not
# invalidate a build layer. Outside a git checkout, every file of the members
# but their build outputs.
#
# One place for both users, so that their contexts are the same bytes:
# `make image` on a machine that cannot build the binary itself
# (ci/build-in-docker.sh) then reuses the layers the workshop's step 2 built,
# and the other way round (Docker's layer cache compares contents, not times).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ctx=${1:?usage: ci/source-context.sh DIR}
read -r -a members < <(sed -n 's/^members *= *\[\(.*\)\]/\1/p' Cargo.toml | tr -d '",')
[ ${#members[@]} -gt 0 ] || { echo "source-context: no 'members = [...]' line in Cargo.toml" >&2; exit 1; }
rm -rf "$ctx"
mkdir -p "$ctx"
cp -p Cargo.toml Cargo.lock "$ctx/"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard -- "${members[@]}"
else
  find "${members[@]}" -name target -prune -o -type f -print0
fi | while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue   # listed by git, deleted since
  mkdir -p "$ctx/$(dirname "$f")"
  cp -p "$f" "$ctx/$f"
done
