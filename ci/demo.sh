#!/usr/bin/env bash
# The offline demo: the app against the fake GitHub, with sample data.
#
# A workshop room shares one IP address, and GitHub allows 60 unauthenticated
# API requests an hour per address: a room exhausts that in minutes, and some
# rooms have no network at all. The fake GitHub (fake-github/, the same one
# the tests use) serves a few sample repositories over real TLS on loopback,
# and the app trusts its test CA through CONTRIBUTORS_EXTRA_CA_FILE, exactly as
# it would trust a company CA.
#
# Usage: ci/demo.sh [native|scratch|busybox|debian]   (default: native)
#   native   runs dist/contributors on this machine
#   IMAGE    runs the contributors:IMAGE container with --network host, so it
#            reaches the fake on 127.0.0.1 (the fake's certificate names
#            127.0.0.1 and localhost only)
# PORT (default 8080) picks the app's port. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-native}
port=${PORT:-8080}
image=${IMAGE:-contributors}
tmp=$(mktemp -d)
chmod 755 "$tmp"
fake_pid=""
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  [ "$mode" != native ] && docker rm -f contributors-demo >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

for bin in dist/contributors dist/fake-github; do
  [ -x "$bin" ] || { echo "demo: $bin is missing; run 'make build' first" >&2; exit 1; }
done

# The fake ends by itself after 8 hours, so a forgotten demo does not linger.
dist/fake-github --listen 127.0.0.1:0 --ca-out "$tmp/ca.pem" --exit-after 28800 >"$tmp/fake.out" &
fake_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$tmp/fake.out" 2>/dev/null && break
  sleep 0.05
done
fake_url=$(grep -o 'https://127\.0\.0\.1:[0-9]*' "$tmp/fake.out") ||
  { echo "demo: the fake GitHub did not start" >&2; exit 1; }
chmod 644 "$tmp/ca.pem" # the container runs as uid 65534

echo "demo: fake GitHub at $fake_url (sample repositories only)"
echo "demo: open http://localhost:$port/kelseyhightower/contributors"
echo "demo:   also /rust-lang/rust?max=250, /torvalds/linux?max=500, /tokio-rs/tokio, /octo/empty"

if [ "$mode" = native ]; then
  PORT=$port GITHUB_API_URL=$fake_url CONTRIBUTORS_AVATAR_URL=$fake_url \
    CONTRIBUTORS_EXTRA_CA_FILE="$tmp/ca.pem" dist/contributors
else
  docker run --rm --name contributors-demo --network host \
    -e PORT="$port" -e GITHUB_API_URL="$fake_url" -e CONTRIBUTORS_AVATAR_URL="$fake_url" \
    -e CONTRIBUTORS_EXTRA_CA_FILE=/ca.pem -v "$tmp/ca.pem:/ca.pem:ro" \
    "$image:$mode"
fi
