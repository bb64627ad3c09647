#!/usr/bin/env bash
# rename/rename-test.sh — does rename/rename.sh turn this template into a working app
# called "myapp"? (`make rename-test`)
#
# Copies the project's files (git ls-files: tracked and new, as they are in
# the working tree) into a scratch directory, runs `rename/rename.sh myapp` there,
# then builds and tests the renamed workspace:
#   - rename.sh refuses bad names, and runs once;
#   - contributors/ became myapp/, and the workspace lists it;
#   - the re-sorted Cargo.lock is what CI's --locked would accept;
#   - renamed, then without the optional parts (ci/without-extras-test.sh,
#     IN_PLACE=1), it builds dist/myapp, `cargo test --workspace` passes and
#     `make image` works;
#   - the binary says `myapp ...` to --version;
#   - no stale reference to the old binary is left (dist/contributors,
#     "/contributors" outside GitHub's API path, -p contributors,
#     CARGO_BIN_EXE_contributors, contributors::, contributors:scratch, ...);
#   - `make -n build`, ci/build.sh and the Dockerfiles use the new name.
# One `ok - ...` / `not ok - ...` line per check; ends with `N passed, M failed`.
#
# Speed: cargo's target dir is $CARGO_TARGET_DIR (default: this checkout's
# target/, which `make test-rust` has just filled), so only the renamed
# workspace crates are compiled, not the ~120 dependencies; and the copy
# always lands at the same path ($RENAME_TEST_DIR, default
# /tmp/contributors-rename-test-N, N from this checkout's path) with the
# files' times kept, so a second run recompiles only what changed.
# Env: KEEP=1 keeps the renamed copy for reading.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
NEW=myapp
# One copy per checkout (two checkouts on one machine must not share it).
WORK=${RENAME_TEST_DIR:-/tmp/contributors-rename-test-$(printf %s "$ROOT" | cksum | cut -d" " -f1)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TERM_COLOR=never
CARGO_TIMEOUT=${CARGO_TIMEOUT:-1800}   # seconds for the build, test and image of the copy

. ci/lib.sh
say() { printf '# %s\n' "$*"; }
# show FILE: the last lines of a log, as comments.
show() { tail -n "${2:-25}" "$1" | sed 's/^/#   /'; }

case "$WORK" in /tmp/* | "$ROOT"/target/*) ;; *) echo "RENAME_TEST_DIR must be under /tmp or target/" >&2; exit 2 ;; esac
mkdir -p "$CARGO_TARGET_DIR"
# One run at a time: the copy's path is fixed.
exec 9>"$CARGO_TARGET_DIR/.rename-test.lock"
flock -w 1800 9 || { echo "another rename-test holds $CARGO_TARGET_DIR/.rename-test.lock" >&2; exit 1; }
LOGS=$(mktemp -d)   # outside the copy: rename.sh must not edit its own log
cleanup() {
  rm -rf "$LOGS"
  if [ "${KEEP:-}" != 1 ]; then rm -rf "$WORK"; else say "kept the renamed copy in $WORK"; fi
}
trap cleanup EXIT
t_start=$SECONDS

# ---- the copy
rm -rf "$WORK"
mkdir -p "$WORK"
n=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  mkdir -p "$WORK/$(dirname "$f")"
  cp -p "$f" "$WORK/$f"
  n=$((n + 1))
done < <(git ls-files -z --cached --others --exclude-standard)
say "copied $n files to $WORK (cargo target dir: $CARGO_TARGET_DIR)"
cd "$WORK"
# The copy is no git work tree (and must not find the real one above /tmp).
GIT_CEILING_DIRECTORIES=$(dirname "$WORK")
export GIT_CEILING_DIRECTORIES

# ---- rename.sh refuses what it should, before touching anything
for bad in "My_App" "9lives" "tokio" "fake-github" "contributors" "app-" "self"; do
  if bash rename/rename.sh "$bad" >"$LOGS/rename-bad.log" 2>&1; then
    not_ok "rename.sh refuses the name '$bad'"; show "$LOGS/rename-bad.log" 5
  else
    ok "rename.sh refuses the name '$bad' ($(grep -m1 ERROR "$LOGS/rename-bad.log" | sed 's/^rename: ERROR: //' | cut -c1-70))"
  fi
done
check "nothing changed by the refusals (contributors/ still there)" test -f contributors/Cargo.toml

# ---- the rename
if bash rename/rename.sh "$NEW" >"$LOGS/rename.log" 2>&1; then
  ok "rename/rename.sh $NEW exits 0 ($(grep -o '[0-9]* files changed, [0-9]* replacements' "$LOGS/rename.log" || echo '?'))"
else
  not_ok "rename/rename.sh $NEW exits 0"; show "$LOGS/rename.log"
  finish; exit 1
fi
sed 's/^/#   /' "$LOGS/rename.log"
check "contributors/ is now $NEW/" test -f "$NEW/Cargo.toml" -a ! -e contributors
check "$NEW/Cargo.toml says name = \"$NEW\"" grep -qx "name = \"$NEW\"" "$NEW/Cargo.toml"
check "the workspace members list $NEW" grep -Eq "^members = \[\"$NEW\"" Cargo.toml
if bash rename/rename.sh other >"$LOGS/rename-again.log" 2>&1; then
  not_ok "a second rename is refused"
else
  ok "a second rename is refused ($(grep -m1 ERROR "$LOGS/rename-again.log" | sed 's/^rename: ERROR: //' | cut -c1-60))"
fi

# ---- stale references to the old binary, image, crate
# Files rename.sh reads, minus the two scripts about the template itself.
mapfile -d '' files < <(find . -path ./target -prune -o -type f \
  ! -name rename.sh ! -name rename-test.sh ! -name '*.pyc' -print0)
# stale DESCRIPTION PERL-REGEX [EXCUSE]: ok when no line of any file matches
# REGEX, except where what precedes the match (on its line) matches EXCUSE$.
stale() {
  local what=$1 re=$2 excuse=${3:-(?!)} hits
  hits=$(perl -ne 'BEGIN { ($re, $ex) = splice @ARGV, 0, 2 }
    # the README section about this very rename keeps the old name, on purpose
    if ($ARGV =~ /\.md$/) { $kept = 1 if /^## Use this as a template/; $kept = 0 if /^## (?!Use this)/ }
    if ($kept) { $kept = 0 if eof; close ARGV if eof; next }
    while (/$re/g) { my $before = substr($_, 0, $-[0]);
      if ($before !~ /(?:$ex)\z/) { print "$ARGV:$.: $_"; last } }
    close ARGV if eof' -- "$re" "$excuse" "${files[@]}" || true)
  if [ -z "$hits" ]; then ok "no stale $what"; else
    not_ok "no stale $what ($(wc -l <<<"$hits") lines)"; head -n 10 <<<"$hits" | sed 's/^/#   /'
  fi
}
stale "dist/contributors" 'dist/contributors\b'
# "/contributors" as a file: anything but GitHub's /repos/{owner}/{repo}/contributors
# (and /repositories/{id}/contributors), with or without the closing quote.
stale '"/contributors" binary path' '/contributors"' '/repos/[^\s"]+|/repositories/\d+|kelseyhightower'
stale "-p contributors" '-p contributors\b(?![_-])'
stale "CARGO_BIN_EXE_contributors" 'CARGO_BIN_EXE_contributors'
stale "contributors:: crate paths" '(?<![\w:])contributors::'
stale "contributors:TAG image names" '(?<![\w/.:-])contributors:(scratch|busybox|debian|latest|build-inside|scratch-system-roots|\$)'
stale "IMAGE default contributors" 'IMAGE\s*\?=\s*contributors\s*$|IMAGE:-contributors\}'
stale "image title label" 'image\.title="?contributors\b'
stale "Dockerfile COPY/ENTRYPOINT/HEALTHCHECK of the old binary" '^(COPY|ENTRYPOINT|HEALTHCHECK).*\bcontributors\b(?!-)'
stale "OWNER placeholder (ghcr.io/OWNER/contributors, github.com/OWNER/contributors)" '\b(ghcr\.io|github\.com)/OWNER/contributors\b'
# The copy has no git remote: the source URL is rename.sh's guess, contributors-rs/NAME.
check "deploy/ names the published image ghcr.io/contributors-rs/$NEW" \
  grep -q "newName: ghcr.io/contributors-rs/$NEW\$" deploy/kubernetes/kustomization.yaml

# ---- make and the Dockerfiles speak of the new binary
if plan=$(make -n build 2>&1); then
  check "make -n build: builds dist/$NEW" grep -q -- "dist/$NEW" <<<"$plan"
  check "ci/build.sh: cargo build -p $NEW" grep -q -- "-p $NEW " ci/build.sh
  # shellcheck disable=SC2016  # $1 is bash -c's argument
  check "make -n build: no dist/contributors left" bash -c '! grep -q "dist/contributors" <<<"$1"' _ "$plan"
else
  not_ok "make -n build runs"; printf '%s\n' "$plan" | tail -n 10 | sed 's/^/#   /'
fi
for d in docker/*/Dockerfile; do
  # shellcheck disable=SC2016  # $1, $2 are bash -c's arguments
  check "$d: ENTRYPOINT [\"/$NEW\"] and title label \"$NEW\"" \
    bash -c 'grep -qx "ENTRYPOINT \[\"/$1\"\]" "$2" && grep -q "image.title=\"$1\"" "$2"' _ "$NEW" "$d"
done

# ---- the fork without its optional parts: builds, tests pass, image works
# A fork's two first moves, checked with one build: ci/without-extras-test.sh
# deletes the extras from this renamed copy, where it is, then builds
# dist/$NEW, runs `cargo test --workspace` and `make image` (so `make test`
# runs no test-without-extras of its own while rename/ is here).
if cargo metadata --locked --offline --format-version 1 >"$LOGS/metadata.log" 2>&1; then
  ok "Cargo.lock as rename.sh left it passes --locked"
else
  not_ok "Cargo.lock as rename.sh left it passes --locked"; show "$LOGS/metadata.log" 5
fi
t0=$SECONDS
if IN_PLACE=1 VENV=$ROOT/target/venv IMAGE=$NEW timeout "$CARGO_TIMEOUT" bash ci/without-extras-test.sh >"$LOGS/without-extras.log" 2>&1; then
  ok "renamed, then without the optional parts: builds, cargo test passes, make image works ($((SECONDS - t0)) s)"
else
  not_ok "renamed, then without the optional parts: builds, cargo test passes, make image works ($((SECONDS - t0)) s)"
fi
sed 's/^/#   /' "$LOGS/without-extras.log"
bin=dist/$NEW
version=$("$bin" --version 2>&1 || true)
check "$bin --version says '$NEW ...' (got: $version)" grep -Eq "^$NEW [0-9]" <<<"$version"
usage=$("$bin" --help 2>&1 || true)
check "$NEW --help names the command $NEW" grep -q "^  $NEW healthcheck" <<<"$usage"
err=$("$bin" bogus 2>&1 || true)
check "$NEW's error messages start with '$NEW: ' (got: ${err%%$'\n'*})" grep -q "^$NEW: " <<<"$err"
say "whole run $((SECONDS - t_start)) s"
finish
