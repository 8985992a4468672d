#!/usr/bin/env bash
# `make up`: the main job on the embedded `local` stack. Refuses to pretend while pieces are missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
missing=()
[ -f "$root/dokploy_local/__main__.py" ] || missing+=("the local Dokploy API server (dokploy_local/)")
[ -f "$root/components/finance_report.py" ] || missing+=("the FinanceReport component (components/finance_report.py)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "make up: not ready - missing: ${missing[*]}" >&2
  exit 1
fi
exec bash "$root/scripts/local-stack.sh" up
