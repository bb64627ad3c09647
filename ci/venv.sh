#!/usr/bin/env bash
# ci/venv.sh PACKAGE==VERSION ... — the project's Python virtual environment
# ($VENV, default target/venv; git ignores target/), with these PyPI packages
# in it. Used by ci/lint.sh, ci/zig.sh and checks/browser-test.sh; prints the
# venv's path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-target/venv}
if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  bash ci/ensure-packages.sh python3:python3 >&2
  # Debian ships venv's pip bootstrap apart, in python3-venv. (No command is
  # called python3-venv-missing: ensure-packages then installs the package.)
  python3 -c "import ensurepip" 2>/dev/null || bash ci/ensure-packages.sh python3-venv-missing:python3-venv >&2
  python3 -m venv "$VENV" >&2
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
echo "$VENV"
