#!/usr/bin/env bash
# What only the tests need (linters, registries, runners, browsers, servers), never what `make up` needs.
# Each tool has its own idempotent script in scripts/test-setup.d/, run in name order.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/test-setup.d"
for script in "$dir"/*.sh; do
  bash "$script"
done
