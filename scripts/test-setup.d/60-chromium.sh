#!/usr/bin/env bash
# Debian's chromium and its chromedriver, for the dashboard's browser tests (tests/local, driven by Selenium).
# Debian's own packages, because Selenium Manager and Playwright would download a browser build, which
# cannot be fetched here. Test-only: `make up` never runs this.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-chromium: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for the dpkg lock instead of failing: other setups may be installing at the same time.
  apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
  "${apt[@]}" update >/dev/null
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
