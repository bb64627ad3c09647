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
# needed: browser_test.py runs the script through Selenium).
bash ci/venv.sh --no-deps axe-playwright-python==0.1.8 >/dev/null
"$venv/bin/python" checks/browser_test.py "$@"
