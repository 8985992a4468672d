#!/usr/bin/env bash
# Debian's chromium and its chromedriver, for the dashboard's browser tests (tests/local, driven by Selenium).
# Debian's own packages, because Selenium Manager and Playwright would download a browser build, which
# cannot be fetched here. Test-only: `make up` never runs this.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
bash "$(dirname "$0")/../apt-install.sh" "${missing[@]}"
