#!/usr/bin/env bash
# Debian packages the tests need: a real OCI registry (token auth, like GHCR) and skopeo to push to it.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
bash "$(dirname "$0")/../apt-install.sh" "${missing[@]}"
