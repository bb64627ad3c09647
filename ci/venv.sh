#!/usr/bin/env bash
# ci/venv.sh DIR PACKAGE... — a Python virtual environment under target/
# holding PACKAGE... (pip requirement strings, pinned), made once and reused.
# Prints nothing on success; the tools are then DIR/bin/NAME.
#   e.g. bash ci/venv.sh target/venv-checkov checkov==3.3.30
# Tests keep their Python tools here, not in the system Python: a pinned
# version, nothing installed for the user, and `rm -rf DIR` undoes it.
# Needs python3 with the venv module (Debian: python3-venv, installed here
# through ci/ensure-packages.sh when missing and run as root).
set -euo pipefail
dir=$1; shift
stamp="$dir/.installed"
want="$*"
# Made before with the same packages: nothing to do.
[ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0

here=$(dirname "${BASH_SOURCE[0]}")
bash "$here/ensure-packages.sh" python3:python3
# Debian splits `python3 -m venv` (ensurepip) into python3-venv, which has
# no command of its own to look for.
if ! python3 -c 'import ensurepip' 2>/dev/null; then
  bash "$here/ensure-packages.sh" python3-venv-is-missing:python3-venv
fi
rm -rf "$dir"
python3 -m venv "$dir"
echo "venv: installing $want into $dir"
timeout 600 "$dir/bin/pip" install -q --disable-pip-version-check "$@"
echo "$want" >"$stamp"
