#!/usr/bin/env bash
# `make env` / `make shell`: a shell in which `pulumi stack ls`, `pulumi preview --stack local` and
# `pulumi config set ... --stack local` just work, on this clone's local servers.
#   shell-env.sh           print the exports: eval "$(make -s env)"
#   shell-env.sh --shell   an interactive bash with them set (your ~/.bashrc first; prompt marked)
# It starts the local servers if they are down (idempotent). No secret value is printed: the Dokploy key
# is read from its file when the lines are evaluated (scripts/local-servers.sh env). The passphrase is the
# local stack's documented, non-secret one, and like the backend and PULUMI_HOME it is only a default:
# a value already set in your shell is kept, as the Makefile's targets keep it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$root/.tools/bin/pulumi" ] || [ ! -x "$root/.venv/bin/python" ]; then
  echo "make env: no Pulumi CLI or virtualenv in this clone yet; run \`make up\` (or \`make setup\`) first" >&2
  exit 1
fi
q() { printf '%q' "$1"; }

exports() {
  echo "export PATH=$(q "$root/.tools/bin"):$(q "$root/.venv/bin"):\"\$PATH\""
  echo ": \"\${PULUMI_BACKEND_URL:=$(q "file://$root/.pulumi-state")}\"; export PULUMI_BACKEND_URL"
  echo ": \"\${PULUMI_CONFIG_PASSPHRASE:=finance-report-local}\"; export PULUMI_CONFIG_PASSPHRASE"
  echo ": \"\${PULUMI_HOME:=$(q "$root/.tools/pulumi-home")}\"; export PULUMI_HOME"
  echo "export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
  echo "export PULUMI_PYTHON_CMD=$(q "$root/.venv/bin/python")"
  # Where the local Dokploy server is, for curl and for PR stacks on the local site (their config names no URL).
  echo "export DOKPLOY_URL=$(q "$(bash "$root/scripts/local-stack.sh" dokploy-url)")"
  bash "$root/scripts/local-servers.sh" env
}

bash "$root/scripts/local-servers.sh" start >&2
if [ ! -s "$root/.local/openbao/stack-local.token" ]; then
  echo "make env: no Vault token for the local stack yet: \`pulumi stack ls\` works, preview and up need \`make up\` once" >&2
fi

case "${1:-}" in
  "")
    exports
    ;;
  --shell)
    rc=$(mktemp)
    {
      echo '[ -f ~/.bashrc ] && . ~/.bashrc'
      exports
      echo 'PS1="(finance-report local) ${PS1:-\$ }"'
      echo "rm -f $(q "$rc")"
      echo "echo 'finance-report shell: pulumi, the local stack and its servers are set up here (exit to leave)' >&2"
    } >"$rc"
    cd "$root"
    exec bash --rcfile "$rc" -i
    ;;
  *)
    echo "usage: $0 [--shell]" >&2
    exit 2
    ;;
esac
