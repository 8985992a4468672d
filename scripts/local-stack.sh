#!/usr/bin/env bash
# The `local` stack end to end on this machine (`make up` runs `local-stack.sh up`).
#   up       start the local servers, run the Vault bootstrap for `local`, `pulumi up --stack local --yes`,
#            print the outputs; the servers keep running, and a second `up` is a no-op update
#   preview  `pulumi preview --stack local --expect-no-changes`
#   destroy  `pulumi destroy --stack local --yes` (local protects nothing, so everything goes)
# Credentials never go into the tracked Pulumi.local.yaml: the local Dokploy key and the local stack's
# Vault token stay in their files under .local/ and reach Pulumi's providers through the environment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
stack=local

export PATH="$root/.tools/bin:$root/.venv/bin:$PATH"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$root/.pulumi-state}"
# Not a secret: it only guards the embedded, throwaway `local` stack (documented in the README).
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-finance-report-local}"
export PULUMI_HOME="${PULUMI_HOME:-$root/.tools/pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_PYTHON_CMD="$root/.venv/bin/python"
mkdir -p "$root/.pulumi-state" "$PULUMI_HOME"

servers() { bash "$root/scripts/local-servers.sh" "$@"; }

local_env() {
  # Read the credentials from their files into this process's environment only.
  eval "$(servers env)"
  if [ ! -s "$VAULT_TOKEN_FILE" ]; then
    echo "local-stack: no Vault token for the local stack yet; run \`make up\` first" >&2
    exit 1
  fi
}

select_stack() {
  pulumi stack select "$stack" --create --non-interactive >/dev/null
}

refresh_missing() {
  # Objects the state holds that were deleted by hand (one list call per server, ops/missing_objects.py):
  # refresh just those, so this `up` creates them again instead of calling them unchanged. If the servers
  # cannot be read, the `up` that follows says why, in one line, before any change.
  local urns args=()
  urns=$("$root/.venv/bin/python" -m ops.missing_objects --stack "$stack" 2>/dev/null) || return 0
  [ -n "$urns" ] || return 0
  while read -r urn; do args+=(--target "$urn"); done <<<"$urns"
  echo "make up: $(wc -l <<<"$urns") object(s) of stack $stack are gone from the servers (deleted by hand?); creating them again"
  pulumi refresh --stack "$stack" --yes --non-interactive --suppress-progress "${args[@]}" >/dev/null
}

outputs() {
  local url api
  url=$(pulumi stack output url --stack "$stack" --non-interactive)
  api=$(pulumi stack output api_url --stack "$stack" --non-interactive)
  echo "Finance Report ($stack) is up: $url  (the frontend calls $api/api/...)"
}

case "${1:-}" in
  up)
    servers start
    "$root/.venv/bin/python" -m ops.vault_bootstrap --env local --openbao-dir "$root/.local/openbao" --no-jwt \
      | tail -n 1
    local_env
    select_stack
    refresh_missing
    pulumi up --stack "$stack" --yes --non-interactive --suppress-progress
    outputs
    ;;
  preview)
    servers start >/dev/null
    local_env
    select_stack
    pulumi preview --stack "$stack" --expect-no-changes --non-interactive --suppress-progress
    ;;
  destroy)
    servers start >/dev/null
    local_env
    select_stack
    # Refuses (one line, nothing deleted) a destroy that could not finish: servers down, other stacks inside.
    "$root/.venv/bin/python" -m ops.destroy_check --stack "$stack"
    pulumi destroy --stack "$stack" --yes --non-interactive --suppress-progress
    ;;
  *)
    echo "usage: $0 up|preview|destroy" >&2
    exit 2
    ;;
esac
