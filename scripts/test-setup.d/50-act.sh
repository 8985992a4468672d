#!/usr/bin/env bash
# nektos/act runs the real workflow files on this machine for tests/pipeline (host mode, no Docker), and gh.
# Built once from the Go module proxy at a pinned version and cached outside the clone, like the Pulumi CLI.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.tools/bin"; mkdir -p "$bin"
cache="${FINANCE_REPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finance-report}/go-tools"
act_version=v0.2.89
if [ ! -x "$cache/act-$act_version" ]; then
  echo "50-act: building nektos/act $act_version from the Go module proxy (first time only; a few minutes)"
  mkdir -p "$cache"
  GOBIN="$cache/tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "github.com/nektos/act@$act_version"
  mv "$cache/tmp/act" "$cache/act-$act_version"
fi
ln -sf "$cache/act-$act_version" "$bin/act"
# The workflows call the GitHub CLI (`gh pr comment`, `gh api`, `gh run download`); runners have it preinstalled.
if ! command -v gh >/dev/null 2>&1; then
  echo "50-act: installing gh (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends gh >/dev/null
fi
