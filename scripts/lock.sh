#!/usr/bin/env bash
# `make lock`: resolve requirements.in alone into requirements.lock (what `make up` installs), then
# requirements.in + requirements-test.in together, and keep in requirements-test.lock only the pins the
# first lock does not have. Both from fresh virtualenvs, so nothing installed by hand leaks into a lock.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for kind in runtime all; do
  python3 -m venv "$tmp/$kind"
  "$tmp/$kind/bin/pip" install -q --upgrade pip
done
"$tmp/runtime/bin/pip" install -q -r requirements.in
"$tmp/runtime/bin/pip" freeze --exclude-editable > requirements.lock
"$tmp/all/bin/pip" install -q -r requirements.in -r requirements-test.in -c requirements.lock
"$tmp/all/bin/pip" freeze --exclude-editable | grep -vxF -f requirements.lock > requirements-test.lock
echo "lock: $(grep -c . requirements.lock) pins in requirements.lock, $(grep -c . requirements-test.lock) in requirements-test.lock"
