#!/usr/bin/env bash
# ci/without-extras-test.sh — do the optional parts come off cleanly?
# (`make test-without-extras`, part of `make test` while they are present)
#
# Copies the project (git ls-files: tracked and new files, as they are now)
# to a scratch directory, deletes there exactly what README.md's "What to
# delete" section lists (the lines between its extras:begin/end markers), then
# runs `make test` (lint, Rust tests, container and browser tests) and
# `make image` in the copy. The copy shares this checkout's cargo target dir
# and venv, so only the workspace's own crates are compiled again, and tags
# its images $IMAGE-without-extras (removed at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
IMAGE=${IMAGE:-contributors}
COPY_IMAGE=$IMAGE-without-extras
. ci/lib.sh
WORK=$(mktemp -d)
cleanup() {
  docker images --format '{{.Repository}}:{{.Tag}}' "$COPY_IMAGE" | xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The paths to delete, from the README: lines like "- `workshop/`, `docs/workshop.md`: ...".
mapfile -t extras < <(sed -n '/<!-- extras:begin -->/,/<!-- extras:end -->/p' README.md |
  sed -n 's/^- \([^:]*\):.*/\1/p' | tr -d '\140,' | tr ' ' '\n')   # \140: a backquote
check "README.md lists the optional parts to delete (${extras[*]})" test ${#extras[@]} -gt 0

git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  mkdir -p "$WORK/$(dirname "$f")"
  cp -p "$f" "$WORK/$f"
done
cd "$WORK"
for p in "${extras[@]}"; do
  check "the copy has $p, and it comes off" rm -r "./$p"
  # A workspace member inside it (bench/baseline) leaves the workspace too.
  sed -i -E "s#, \"${p%/}/[^\"]*\"##g" Cargo.toml
done
cargo update --workspace --offline --quiet   # and Cargo.lock forgets it (no version changes)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target} VENV=$ROOT/target/venv
export GIT_CEILING_DIRECTORIES=${WORK%/*}   # the copy is no git work tree
log=$WORK.log
for goal in test image; do
  t0=$SECONDS
  if make "$goal" IMAGE="$COPY_IMAGE" DIST=dist >"$log" 2>&1; then
    ok "make $goal passes without the optional parts ($((SECONDS - t0)) s; $(grep -E '^[0-9]+ passed' "$log" | tr '\n' ' '))"
  else
    not_ok "make $goal passes without the optional parts"; tail -n 30 "$log" | sed 's/^/#   /'
  fi
done
rm -f "$log"
finish
