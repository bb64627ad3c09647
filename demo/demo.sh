#!/usr/bin/env bash
# demo/demo.sh [native|scratch|busybox|debian] — the offline demo (`make demo`):
# the app against the fake GitHub, with sample data.
#
# A workshop room shares one IP address, and GitHub allows 60 unauthenticated
# API requests an hour per address: a room exhausts that in minutes, and some
# rooms have no network at all. The fake GitHub (fake-github/, the same one
# the tests use) serves a few sample repositories over real TLS on loopback,
# and the app trusts its test CA through CONTRIBUTORS_EXTRA_CA_FILE, exactly as
# it would trust a company CA.
#
#   native   runs dist/contributors on this machine (the default)
#   VARIANT  runs the contributors:VARIANT container with --network host, so it
#            reaches the fake on 127.0.0.1 (the fake's certificate names
#            127.0.0.1 and localhost only)
# PORT (default 8080) picks the app's port. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=${1:-native}
port=${PORT:-8080}
image=${IMAGE:-contributors}
DIST=${DIST:-dist}
. ci/containers.sh

for bin in "$DIST/contributors" "$DIST/fake-github"; do
  [ -x "$bin" ] || { echo "demo: $bin is missing; run 'make build' first" >&2; exit 1; }
done
# The fake ends by itself after 8 hours, so a forgotten demo does not linger.
start_fake 28800 || { echo "demo: the fake GitHub did not start" >&2; cat "$TMP/fake.err" >&2; exit 1; }

echo "demo: fake GitHub at $FAKE_URL (sample repositories only)"
echo "demo: open http://localhost:$port/kelseyhightower/contributors"
echo "demo:   also /rust-lang/rust?max=250, /torvalds/linux?max=500, /tokio-rs/tokio, /octo/empty"
if [ "$mode" = native ]; then
  PORT=$port GITHUB_API_URL=$FAKE_URL CONTRIBUTORS_AVATAR_URL=$FAKE_URL \
    CONTRIBUTORS_EXTRA_CA_FILE="$TMP/ca.pem" "$DIST/contributors"
else
  CONTAINERS+=(contributors-demo)
  docker run --rm --name contributors-demo --network host \
    -e PORT="$port" -e GITHUB_API_URL="$FAKE_URL" -e CONTRIBUTORS_AVATAR_URL="$FAKE_URL" \
    -e CONTRIBUTORS_EXTRA_CA_FILE=/ca.pem -v "$TMP/ca.pem:/ca.pem:ro" \
    "$image:$mode"
fi
