#!/usr/bin/env bash
# ci/without-extras-test.sh — do the optional parts come off cleanly?
# (`make test-without-extras`, part of `make test` while they are present)
#
# Copies the project (git ls-files: tracked and new files, as they are now)
# to a scratch directory, deletes there exactly what README.md's "What to
# delete" section lists (the lines between its extras:begin/end markers), then
# proves three things in the copy, one `ok` line each, with its time:
#   - it builds: `make dist/contributors`, this machine's static binary,
#     checked as `make build` checks it (the other architecture builds from
#     the same sources);
#   - `cargo test --workspace` passes;
#   - `make image` works.
# It does not run the test suites again: the extras only add to them, and
# `make test` has just run them with the extras present. The copy shares this
# checkout's cargo target dir and venv, so only the workspace's own crates
# are compiled again, and tags its images $IMAGE-without-extras (removed at
# the end).
#
# IN_PLACE=1: the current directory is a scratch copy already, changed where
# it is and left there (rename/rename-test.sh does this to its renamed copy:
# a fork's two first moves, checked with one build); CARGO_TARGET_DIR and
# VENV then come from the caller.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
IMAGE=${IMAGE:-contributors}
COPY_IMAGE=$IMAGE-without-extras
. ci/lib.sh
if [ "${IN_PLACE:-}" = 1 ]; then WORK=$ROOT; else WORK=$(mktemp -d); fi
cleanup() {
  docker images --format '{{.Repository}}:{{.Tag}}' "$COPY_IMAGE" | xargs -r docker rmi >/dev/null 2>&1 || true
  [ "${IN_PLACE:-}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

# The paths to delete, from the README: lines like "- `workshop/`, `docs/workshop.md`: ...".
mapfile -t extras < <(sed -n '/<!-- extras:begin -->/,/<!-- extras:end -->/p' README.md |
  sed -n 's/^- \([^:]*\):.*/\1/p' | tr -d '\140,' | tr ' ' '\n')   # \140: a backquote
check "README.md lists the optional parts to delete (${extras[*]})" test ${#extras[@]} -gt 0

if [ "${IN_PLACE:-}" != 1 ]; then
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue
    mkdir -p "$WORK/$(dirname "$f")"
    cp -p "$f" "$WORK/$f"
  done
fi
cd "$WORK"
for p in "${extras[@]}"; do
  check "the copy has $p, and it comes off" rm -r "./$p"
  # A workspace member inside it (bench/baseline) leaves the workspace too.
  sed -i -E "s#, \"${p%/}/[^\"]*\"##g" Cargo.toml
done
cargo update --workspace --offline --quiet   # and Cargo.lock forgets it (no version changes)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target} VENV=${VENV:-$ROOT/target/venv}
export GIT_CEILING_DIRECTORIES=${WORK%/*}   # the copy is no git work tree
log=$WORK.log
step() {   # step WHAT COMMAND...: run COMMAND in the copy, say ok or not_ok WHAT
  local what=$1 t0=$SECONDS
  shift
  if "$@" >"$log" 2>&1; then
    ok "$what without the optional parts ($((SECONDS - t0)) s)"
  else
    not_ok "$what without the optional parts"; tail -n 30 "$log" | sed 's/^/#   /'
  fi
}
cargo_test() {   # as make test-rust runs it (tests/app/proxy.rs runs a real tinyproxy)
  local locked=()
  [ -n "${CI:-}" ] && locked=(--locked)
  bash ci/toolchain.sh && bash ci/ensure-packages.sh tinyproxy:tinyproxy &&
    cargo test "${locked[@]}" --workspace
}
step "the copy builds (make dist/contributors)" make dist/contributors IMAGE="$COPY_IMAGE" DIST=dist
step "cargo test --workspace passes" cargo_test
step "make image works" make image IMAGE="$COPY_IMAGE" DIST=dist
rm -f "$log"
finish
