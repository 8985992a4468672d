#!/usr/bin/env bash
# versitygw, a real S3-compatible server (posix gateway: buckets are directories), for the tests of the
# S3 state backend (tests/state). Built once from the Go module proxy and cached outside the clone;
# `make up` never installs it. The fixtures start it on loopback (tests/support/s3.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.tools/bin"; mkdir -p "$bin"
cache="${FINANCE_REPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finance-report}/go-tools"
versitygw_version=v1.8.0
if [ ! -x "$cache/versitygw-$versitygw_version" ]; then
  echo "test-setup: building versitygw $versitygw_version from the Go module proxy (first time only; a few minutes)"
  mkdir -p "$cache"
  rm -rf "$cache/tmp-versitygw"
  GOBIN="$cache/tmp-versitygw" CGO_ENABLED=0 GOFLAGS=-trimpath \
    go install -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
  mv "$cache/tmp-versitygw/versitygw" "$cache/versitygw-$versitygw_version"
  rm -rf "$cache/tmp-versitygw"
fi
ln -sf "$cache/versitygw-$versitygw_version" "$bin/versitygw"
