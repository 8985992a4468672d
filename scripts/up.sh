#!/usr/bin/env bash
# `make up [STACK=pr-<N>]`: a stack (`local` by default) on this machine's local servers, end to end, then
# plainly what ran for real, what was only simulated, and which URLs answer. Refuses to pretend while
# pieces are missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stack=${1:-${STACK:-local}}
missing=()
[ -f "$root/dokploy_local/__main__.py" ] || missing+=("the local Dokploy API server (dokploy_local/)")
[ -f "$root/components/finance_report.py" ] || missing+=("the FinanceReport component (components/finance_report.py)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "make up: not ready - missing: ${missing[*]}" >&2
  exit 1
fi
bash "$root/scripts/local-stack.sh" up "$stack"

outputs=$(bash "$root/scripts/local-stack.sh" outputs "$stack")
app_url=$("$root/.venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["url"])' <<<"$outputs")
dokploy=$(bash "$root/scripts/local-stack.sh" dokploy-url)
openbao=$(cat "$root/.local/openbao/address")
key_file=.local/dokploy/api-key
cat <<SUMMARY

Finance Report ($stack) on this machine - what ran, and what did not:
  real       Pulumi: the real engine and CLI applied stack $stack (state in .pulumi-state/)
  real       OpenBao: a real Vault server keeps the stack's secrets and its agents' AppRoles
  real       Dokploy API: dokploy_local, this project's imitation of Dokploy's HTTP API, took every call and keeps every object
  simulated  deployments: recorded, not executed. No container runs here: no image is pulled, no database
             starts, and nothing serves the app

These answer on this machine:
  dashboard    $dokploy/  (projects, composes, deployments and their logs; log in with the key in $key_file)
  Dokploy API  $dokploy/api/project.all  (header x-api-key: the key in $key_file)
  OpenBao      $openbao/v1/sys/health  (\`make shell\` or \`eval "\$(make -s env)"\` sets VAULT_ADDR and the token)

Not served here (no container runs; README "Local: what is real" says how to serve it on a real Dokploy):
  app          $app_url
SUMMARY
