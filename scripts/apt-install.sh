#!/usr/bin/env bash
# Installs Debian packages for the test setup: `bash scripts/apt-install.sh PKG...`. Waits for the dpkg lock
# instead of failing (several setups may install at once) and refreshes the package lists first.
set -euo pipefail
[ $# -gt 0 ] || exit 0
echo "test-setup: installing Debian packages $*"
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
"${apt[@]}" update >/dev/null
"${apt[@]}" install -y --no-install-recommends "$@" >/dev/null
