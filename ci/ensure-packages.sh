#!/usr/bin/env bash
# ci/ensure-packages.sh CMD:PACKAGE ... — install the Debian packages whose
# command is missing, in one apt-get call. Fast when all are present (only
# `command -v` runs). A CMD that starts with / is a file the package brings
# (for packages of headers or libraries, which have no command).
# Needs root to install; otherwise prints the exact command.
#   e.g. ci/ensure-packages.sh make:make file:file curl:curl
set -euo pipefail
missing=()
for pair in "$@"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  case $cmd in
    /*) [ -e "$cmd" ] || missing+=("$pkg") ;;
    *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
# de-duplicate, keep order
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${missing[*]}" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing packages: ${missing[*]} (no apt-get here; install them with your package manager)" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
# Another apt-get (a second make, a desktop's updater) may hold dpkg's lock:
# wait for it, up to 5 minutes, instead of failing at once.
lock=(-o DPkg::Lock::Timeout=300)
apt-get "${lock[@]}" update -qq
DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
