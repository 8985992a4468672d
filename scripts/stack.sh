#!/usr/bin/env bash
# `make preview` / `make destroy`: preview (expecting no changes) or destroy a stack, `local` by default.
#   stack.sh preview|destroy [stack]
# `local` gets its servers and credentials from .local/ (scripts/local-stack.sh). Any other stack runs
# with the credentials already in the environment (DOKPLOY_API_KEY, VAULT_* - as the workflows set them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-}
stack=${2:-${STACK:-local}}
case "$action" in
  preview | destroy) ;;
  *) echo "usage: $0 preview|destroy [stack]" >&2; exit 2 ;;
esac
if [ "$stack" = local ]; then
  exec bash "$root/scripts/local-stack.sh" "$action"
fi
cd "$root"
export PATH="$root/.tools/bin:$root/.venv/bin:$PATH" PULUMI_PYTHON_CMD="$root/.venv/bin/python"
if [ "$action" = preview ]; then
  exec pulumi preview --stack "$stack" --expect-no-changes --non-interactive --suppress-progress
fi
# Refuses (one line, nothing deleted) a destroy that could not finish: servers down, other stacks inside.
"$root/.venv/bin/python" -m ops.destroy_check --stack "$stack"
exec pulumi destroy --stack "$stack" --yes --non-interactive --suppress-progress
