#!/usr/bin/env bash
# nektos/act runs the real workflow files on this machine for tests/pipeline (host mode, no Docker), and gh.
# Built once from the Go module proxy at a pinned version and cached outside the clone, like the Pulumi CLI.
set -euo pipefail
bash "$(dirname "$0")/../go-tool.sh" act github.com/nektos/act@v0.2.89
# The workflows call the GitHub CLI (`gh pr comment`, `gh api`, `gh run download`); runners have it preinstalled.
command -v gh >/dev/null 2>&1 || bash "$(dirname "$0")/../apt-install.sh" gh
