#!/usr/bin/env bash
# ci/build.sh — CI's build step: the static binary artifact, dist/contributors
# (and the test tool dist/fake-github). Everything is in the Makefile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec make build "$@"
