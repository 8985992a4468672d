#!/usr/bin/env bash
# Builds one Go tool from the Go module proxy, once, into the cache outside the clone, and links it into
# .tools/bin: `bash scripts/go-tool.sh NAME MODULE@VERSION`. The test-setup scripts use it, like the Pulumi build
# uses its own cache, so a fresh clone (and CI) reuses what is there and never rebuilds a present version.
set -euo pipefail
name=$1 module=${2%@*} version=${2##*@}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"; mkdir -p "$bin"
cache="${FINANCE_REPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finance-report}/go-tools"
if [ ! -x "$cache/$name-$version" ]; then
  echo "test-setup: building $name $version from the Go module proxy (first time only; a few minutes)"
  mkdir -p "$cache"
  rm -rf "$cache/tmp-$name"
  GOBIN="$cache/tmp-$name" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "$module@$version"
  mv "$cache/tmp-$name/$name" "$cache/$name-$version"
  rm -rf "$cache/tmp-$name"
fi
ln -sf "$cache/$name-$version" "$bin/$name"
