#!/usr/bin/env bash
# `make preview` / `make destroy`: the drift check (scripts/drift-preview.sh) or destroy a stack, `local` by default.
#   stack.sh preview|destroy [stack]        (or STACK=pr-7)
# A stack on the local site (`local`, and pr-<N> stacks that `make up STACK=pr-<N>` created) gets its servers
# and credentials from .local/ (scripts/local-stack.sh); the environment model says which site a stack is on.
# Any other stack runs with the credentials already in the environment (DOKPLOY_API_KEY, VAULT_* - as the
# workflows set them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-}
stack=${2:-${STACK:-local}}
case "$action" in
  preview | destroy) ;;
  *) echo "usage: $0 preview|destroy [stack]" >&2; exit 2 ;;
esac
site=$(bash "$root/scripts/local-stack.sh" site "$stack")
if [ "$site" = local ]; then
  exec bash "$root/scripts/local-stack.sh" "$action" "$stack"
fi
cd "$root"
export PATH="$root/.tools/bin:$root/.venv/bin:$PATH" PULUMI_PYTHON_CMD="$root/.venv/bin/python"
# Pulumi's progress in a terminal (deploy waits report as they go); one line per event in CI and logs.
if [ -t 1 ]; then progress=(); else progress=(--non-interactive --suppress-progress); fi
if [ "$action" = preview ]; then
  exec bash "$root/scripts/drift-preview.sh" "$stack" "${progress[@]}"
fi
# Refuses (one line, nothing deleted) a destroy that could not finish: servers down, other stacks inside.
"$root/.venv/bin/python" -m ops.destroy_check --stack "$stack"
exec pulumi destroy --stack "$stack" --yes "${progress[@]}"
