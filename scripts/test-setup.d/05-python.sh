#!/usr/bin/env bash
# Installs the test-only Python packages (requirements-test.lock: pytest, ruff, mypy, zizmor, ...) into the
# virtualenv `make setup` made from requirements.lock. Idempotent: a stamp newer than both locks skips it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
stamp="$venv/.test-installed"
if [ -f "$stamp" ] && [ "$stamp" -nt "$root/requirements-test.lock" ] && [ "$stamp" -nt "$root/requirements.lock" ]; then
  exit 0
fi
[ -x "$venv/bin/pip" ] || { echo "test-setup: no virtualenv at $venv; run make setup first" >&2; exit 1; }
"$venv/bin/pip" install -q --disable-pip-version-check -r "$root/requirements.lock" -r "$root/requirements-test.lock"
touch "$stamp"
echo "test-setup: installed requirements-test.lock"
