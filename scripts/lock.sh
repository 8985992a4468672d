#!/usr/bin/env bash
# `make lock`: requirements.lock (what `make setup` installs: `make up` and the workflows' jobs) from
# requirements.in, and requirements-test.lock (what `make test-setup` adds on top: tests, linters, type
# checks) from requirements-test.in. Both are resolved together in a throwaway virtualenv, so the test lock
# never pins a runtime package to another version. Transitive pins stay as locked unless a direct pin in
# an .in file moves them; delete a lock file to re-resolve it from scratch.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
names() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^-/d' -e '/^$/d' "$@" | sed -E 's/[=<>!~;[].*//' | tr 'A-Z_.' 'a-z--'; }
# Constraints: the current locks, minus every package an .in file pins directly (so bumping one works).
direct=$(names requirements.in requirements-test.in | sort -u)
: >"$tmp/constraints.txt"
for lock in requirements.lock requirements-test.lock; do
  [ -f "$lock" ] || continue
  while IFS= read -r line; do
    name=$(printf '%s\n' "$line" | sed -E 's/[=<>!~;[].*//' | tr 'A-Z_.' 'a-z--')
    grep -qx -- "$name" <<<"$direct" || printf '%s\n' "$line" >>"$tmp/constraints.txt"
  done < <(grep -v '^[#-]' "$lock" | sed '/^$/d')
done
python3 -m venv "$tmp/venv"
pip=("$tmp/venv/bin/pip" install -q --disable-pip-version-check -c "$tmp/constraints.txt")
"${pip[@]}" -r requirements.in
"$tmp/venv/bin/pip" freeze --exclude-editable --all | grep -v -E '^(pip|setuptools|wheel)==' | LC_ALL=C sort -f -t= -k1,1 >"$tmp/runtime.txt"
"${pip[@]}" -r requirements.in -r requirements-test.in
"$tmp/venv/bin/pip" freeze --exclude-editable --all | grep -v -E '^(pip|setuptools|wheel)==' | LC_ALL=C sort -f -t= -k1,1 >"$tmp/all.txt"
moved=$(grep -Fvx -f "$tmp/all.txt" "$tmp/runtime.txt" || true)
if [ -n "$moved" ]; then
  echo "lock: the test requirements would move these runtime pins; align requirements-test.in: $moved" >&2
  exit 1
fi
cp "$tmp/runtime.txt" requirements.lock
grep -Fvx -f "$tmp/runtime.txt" "$tmp/all.txt" >requirements-test.lock || true
echo "lock: requirements.lock ($(wc -l <requirements.lock) pins), requirements-test.lock ($(wc -l <requirements-test.lock) pins)"
