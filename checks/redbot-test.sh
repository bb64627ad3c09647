#!/usr/bin/env bash
# checks/redbot-test.sh — what the HTTP linter web engineers use says about us.
#
#   bash checks/redbot-test.sh [CONTRIBUTORS_BINARY [FAKE_GITHUB_BINARY]]
#   (default: dist/contributors dist/fake-github; a debug build works too)
#
# REDbot (PyPI `redbot`, installed into target/redbot-venv on first use)
# fetches a URL several times over: plainly, with Accept-Encoding: gzip, with
# the ETag it got in If-None-Match, and more, and writes one note per
# finding, each with a level (GOOD, INFO, WARN, BAD). Its positive notes
# appear only when the behaviour is really there. For a contributors page
# and for /style.css, served from the fake GitHub on loopback, this test
# asserts:
#
#   - "Content negotiation for gzip compression is supported" (CONNEG_GZIP_GOOD)
#   - "If-None-Match conditional requests are supported" (INM_304)
#   - no note at the BAD level.
#
# Bounded: the fake GitHub and the app stop after 120 s at the latest, each
# REDbot run after 60 s. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=ci/lib.sh
source ci/lib.sh

APP=${1:-dist/contributors}
FAKE=${2:-dist/fake-github}
REDBOT_VERSION=${REDBOT_VERSION:-2.7.1}
PATHS=(/kelseyhightower/contributors /style.css)


# REDbot in a venv of its own (its dependencies stay apart from the other tools).
VENV=$(VENV=target/venv-redbot bash ci/venv.sh "redbot==$REDBOT_VERSION")

# shellcheck source=ci/loopback.sh
source ci/loopback.sh
start_loopback "$APP" "$FAKE" 120

for path in "${PATHS[@]}"; do
  har="$TMP/redbot.har"
  if ! timeout 60 "$VENV/bin/redbot" -o har "$APP_URL$path" >"$har" 2>"$TMP/redbot.err"; then
    not_ok "$path: REDbot ran ($(tail -n1 "$TMP/redbot.err"))"
    continue
  fi
  # One line per note: LEVEL NOTE_ID summary.
  "$VENV/bin/python" -c '
import json, sys
for entry in json.load(open(sys.argv[1]))["log"]["entries"]:
    for note in entry.get("_red_messages", []):
        print(note["level"], note["note_id"], note["summary"])
' "$har" >"$TMP/notes"
  sed "s|^|  $path: |" "$TMP/notes"
  has_note() { awk -v id="$1" '$2 == id { found = 1 } END { exit !found }' "$TMP/notes"; }
  check "$path: Content negotiation for gzip compression is supported" has_note CONNEG_GZIP_GOOD
  check "$path: If-None-Match conditional requests are supported" has_note INM_304
  bad=$(awk '$1 == "BAD"' "$TMP/notes")
  check "$path: no note at the BAD level${bad:+: $bad}" test -z "$bad"
done
finish
