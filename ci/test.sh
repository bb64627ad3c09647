#!/usr/bin/env bash
# ci/test.sh — CI's test step: fmt, clippy, cargo test, then the container
# tests on the three images (reusing dist/ from ci/build.sh when it is fresh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec make test "$@"
