#!/usr/bin/env bash
# checks/metrics-test.sh — /metrics, read by Prometheus's own parser.
#
#   bash checks/metrics-test.sh [CONTRIBUTORS_BINARY [FAKE_GITHUB_BINARY]]
#   (default: dist/contributors dist/fake-github; a debug build works too)
#
# Starts the app against the fake GitHub on loopback, with a budget of three
# GitHub lookups a minute per client and room for one entry per cache,
# scrapes /metrics, makes a known set of requests (a page, the same page
# again, an avatar twice, another page that evicts the first, a missing
# repository, a bad name, an unknown path, one lookup over the budget),
# scrapes again, and checks with checks/metrics_test.py that the text parses
# with `prometheus_client.parser` (PyPI, pinned, in target/venv-metrics)
# and that each counter moved by exactly what those requests should cost.
#
# Bounded: the fake GitHub and the app stop after 60 s at the latest.
# Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=ci/lib.sh
source ci/lib.sh

APP=${1:-dist/contributors}
FAKE=${2:-dist/fake-github}
PROMETHEUS_CLIENT_VERSION=${PROMETHEUS_CLIENT_VERSION:-0.26.0}


VENV=$(VENV=target/venv-metrics bash ci/venv.sh "prometheus_client==$PROMETHEUS_CLIENT_VERSION")

# shellcheck source=ci/loopback.sh
source ci/loopback.sh
start_loopback "$APP" "$FAKE" 60 CONTRIBUTORS_CLIENT_LOOKUPS=3 CONTRIBUTORS_CACHE_ENTRIES=1

# The checker prints ok/not ok lines; count them here like every other test.
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) not_ok "${line#not ok - }" ;;
    *) echo "$line" ;;
  esac
done < <(timeout 60 "$VENV/bin/python" checks/metrics_test.py "$APP_URL" || echo "not ok - checks/metrics_test.py ran to the end")
finish
