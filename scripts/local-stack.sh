#!/usr/bin/env bash
# A stack on this machine's local servers, `local` by default (`make up [STACK=pr-7]` runs `local-stack.sh up`).
#   up [STACK]       start the local servers, run the Vault bootstrap for the stack, `pulumi up --yes`; the
#                    servers keep running, and a second `up` is a no-op update (scripts/up.sh then says
#                    what ran and where)
#   preview [STACK]  `pulumi preview --expect-no-changes`
#   destroy [STACK]  `pulumi destroy --yes` (nothing on the local site is protected, so everything goes); an
#                    ephemeral stack (pr-<N>) is then removed with its config and its Vault token revoked
#   site STACK       the site the environment model gives the stack (`local` or `hosted`), or one error line
#   outputs [STACK]  the stack's outputs as JSON (scripts/up.sh prints them)
#   dokploy-url      the local Dokploy server's URL (Pulumi.local.yaml's dokploy:url)
# A stack other than `local` that has no Pulumi.<stack>.yaml yet is created on the local site
# (financeReport:site local): the model then gives it the local base domain and no GitHub, and its servers
# come from the environment set here (DOKPLOY_URL, VAULT_ADDR), so no port is written twice.
# Credentials never go into a Pulumi.<stack>.yaml: the local Dokploy key and the stack's Vault token stay
# in their files under .local/ and reach Pulumi's providers through the environment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
stack=${2:-local}
# Pulumi's progress in a terminal (the deploy wait's reports as they happen); one line per event elsewhere.
if [ -t 1 ]; then progress=(); else progress=(--non-interactive --suppress-progress); fi

export PATH="$root/.tools/bin:$root/.venv/bin:$PATH"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$root/.pulumi-state}"
# Not a secret: it only guards the embedded, throwaway `local` stack (documented in the README).
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-finance-report-local}"
export PULUMI_HOME="${PULUMI_HOME:-$root/.tools/pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_PYTHON_CMD="$root/.venv/bin/python"
mkdir -p "$root/.pulumi-state" "$PULUMI_HOME"

servers() { bash "$root/scripts/local-servers.sh" "$@"; }

dokploy_url() {
  "$root/.venv/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["config"]["dokploy:url"])' \
    "$root/Pulumi.local.yaml"
}

model() {
  # One fact the environment model gives a stack (`site`: local or hosted; `is_ephemeral`), from its name and
  # Pulumi.<stack>.yaml as the workflows read it (ops.stacks); `model STACK FACT local`: as if it were on the
  # local site. An unknown stack name or a bad config is one line and a non-zero exit.
  "$root/.venv/bin/python" - "$@" <<'PY'
import sys
from components.environment import ConfigError, environment_for, site_for
from ops.stacks import stack_config
import yaml
stack, fact, *site = sys.argv[1:]
try:
    config = {**stack_config(stack), **({"site": site[0]} if site else {})}
except yaml.YAMLError as error:  # one line, not yaml's traceback
    mark = getattr(error, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    sys.exit(f"local-stack: Pulumi.{stack}.yaml is not valid YAML{at} ({getattr(error, 'problem', None) or error}); fix the file")
try:
    print(site_for(stack, config) if fact == "site" else getattr(environment_for(stack, config), fact))
except ConfigError as error:
    sys.exit(f"stack {stack}: {error}")
PY
}

token_file() { echo "$root/.local/openbao/stack-$stack.token"; }

local_env() {
  # Read the credentials from their files into this process's environment only.
  eval "$(servers env)"
  export DOKPLOY_URL VAULT_TOKEN_FILE
  DOKPLOY_URL=$(dokploy_url)
  VAULT_TOKEN_FILE=$(token_file)
  if [ ! -s "$VAULT_TOKEN_FILE" ]; then
    echo "local-stack: no Vault token for stack $stack yet; run \`make up STACK=$stack\` first" >&2
    exit 1
  fi
}

check_local_site() {
  # Before anything starts: `make up` runs only stacks whose servers are this machine's. A stack without a
  # config file yet is created on the local site, if the model lets it run there.
  local where
  if [ ! -f "$root/Pulumi.$stack.yaml" ]; then
    model "$stack" site local >/dev/null
    return 0
  fi
  where=$(model "$stack" site)
  if [ "$where" != local ]; then
    echo "local-stack: stack $stack is on the $where site (Pulumi.$stack.yaml), not this machine's servers; use pulumi with its own credentials" >&2
    exit 1
  fi
}

select_stack() {
  # `up` creates a missing stack; preview and destroy only select an existing one.
  if [ "${1:-}" = --create ] && [ ! -f "$root/Pulumi.$stack.yaml" ] \
    && ! pulumi stack select "$stack" --non-interactive >/dev/null 2>&1; then
    pulumi stack init "$stack" --non-interactive >/dev/null
    pulumi config set --non-interactive --stack "$stack" financeReport:site local
  fi
  pulumi stack select "$stack" ${1:+--create} --non-interactive >/dev/null
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

recover() {
  # After a killed `pulumi` (ops/recover.py): its orphaned engine processes, its stale lock, pending operations.
  "$root/.venv/bin/python" -m ops.recover --stack "$stack"
}

case "${1:-}" in
  up)
    check_local_site
    servers start
    "$root/.venv/bin/python" -m ops.vault_bootstrap --env "$stack" --openbao-dir "$root/.local/openbao" --no-jwt \
      --stack-token-file "$(token_file)" | tail -n 1
    local_env
    select_stack --create
    recover
    refresh_missing
    # REFRESH=1 reads every object first, so what was changed by hand (`make preview` says so) is put back.
    refresh=()
    [ "${REFRESH:-}" = 1 ] && refresh=(--refresh)
    pulumi up --stack "$stack" --yes "${refresh[@]}" "${progress[@]}"
    ;;
  preview)
    check_local_site
    servers start >/dev/null
    local_env
    select_stack
    exec bash "$root/scripts/drift-preview.sh" "$stack" "${progress[@]}"
    ;;
  destroy)
    check_local_site
    servers start >/dev/null
    local_env
    select_stack
    recover
    # Refuses (one line, nothing deleted) a destroy that could not finish: servers down, other stacks inside.
    "$root/.venv/bin/python" -m ops.destroy_check --stack "$stack"
    pulumi destroy --stack "$stack" --yes "${progress[@]}"
    if [ "$(model "$stack" is_ephemeral)" = True ]; then
      pulumi stack rm "$stack" --yes --non-interactive >/dev/null
      # Its Vault identity goes too: the stack token (revoked with this machine's root token: a PR's own
      # policy cannot) and what the bootstrap admitted for the PR (entity, aliases, token role).
      "$root/.venv/bin/python" - "$VAULT_TOKEN_FILE" "$root/.local/openbao/root-token" <<'PY'
import os, sys
import hvac
token, root = (open(path).read().strip() for path in sys.argv[1:3])
hvac.Client(url=os.environ["VAULT_ADDR"], token=root).auth.token.revoke(token)
PY
      rm -f "$VAULT_TOKEN_FILE"
      "$root/.venv/bin/python" -m ops.vault_bootstrap --retire-pr "$(model "$stack" pr_number)" \
        --openbao-dir "$root/.local/openbao" >/dev/null
      echo "local-stack: stack $stack removed (state, Pulumi.$stack.yaml, its Vault token and identity)"
    fi
    ;;
  outputs)
    pulumi stack output --json --stack "$stack" --non-interactive
    ;;
  site)
    model "${2:?usage: $0 site STACK}" site
    ;;
  dokploy-url)
    dokploy_url
    ;;
  *)
    echo "usage: $0 up|preview|destroy|outputs [STACK] | site STACK | dokploy-url" >&2
    exit 2
    ;;
esac
