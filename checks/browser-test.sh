#!/usr/bin/env bash
# checks/browser-test.sh APP FAKE_GITHUB — `make test-browser`: the page in
# headless Chromium (checks/browser_test.py), driven by Selenium from the
# project's venv (ci/venv.sh), with axe-core's accessibility audit.
# Screenshots land in target/screenshots/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash ci/ensure-packages.sh chromium:chromium chromedriver:chromium-driver python3:python3
venv=$(bash ci/venv.sh selenium==4.27.1)
# axe-core's script, bundled in this package (its Playwright half is not
# needed: browser_test.py runs the script through Selenium). pip is asked
# only when the pinned version is missing: a pip call costs seconds.
axe="axe-playwright-python==0.1.8"
"$venv/bin/python" -c 'import importlib.metadata as m, sys; name, version = sys.argv[1].split("=="); sys.exit(m.version(name) != version)' "$axe" 2>/dev/null \
  || bash ci/venv.sh --no-deps "$axe" >/dev/null
"$venv/bin/python" checks/browser_test.py "$@"
