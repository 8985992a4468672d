#!/usr/bin/env bash
# Installs the pinned Node test helpers (tests/node: npm `dotenv`, the parser Dokploy uses) from the lockfile.
# Idempotent: does nothing when node_modules is already there. node_modules is git-ignored.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/tests/node"
if [ -d "$dir/node_modules/dotenv" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "setup-node: npm not found; install Node 20 (apt-get install nodejs npm)" >&2; exit 1; }
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
echo "setup-node: installed $(cd "$dir" && node -p "'dotenv ' + require('dotenv/package.json').version")"
