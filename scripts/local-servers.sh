#!/usr/bin/env bash
# The embedded default's two servers, on loopback, with their data under .local/ (kept across restarts):
#   the local Dokploy API server  dokploy:url of Pulumi.local.yaml, :3800  (.local/dokploy; owner key in .local/dokploy/api-key)
#   OpenBao (raft storage)        vault:address of Pulumi.local.yaml, :8300 (.local/openbao; ops/openbao_server.py)
# Usage: local-servers.sh start | stop | status | env
#   start   starts whichever is not running (idempotent); they keep running after the caller exits
#   stop    stops both (`make down`); data stays, so the next `make up` finds everything again
#   env     prints the exports a shell needs to run `pulumi ... --stack local` by hand (no secret values:
#           the key is read from its file when the line is evaluated)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
local_dir="$root/.local"
dokploy_dir="$local_dir/dokploy"
openbao_dir="$local_dir/openbao"
# The ports come from the local stack's own config, so the servers are where the stack looks for them.
config_port() {
  "$py" -c 'import sys, urllib.parse, yaml
print(urllib.parse.urlsplit(yaml.safe_load(open(sys.argv[1]))["config"][sys.argv[2]]).port)' "$root/Pulumi.local.yaml" "$1"
}
dokploy_port=$(config_port dokploy:url)
openbao_port=$(config_port vault:address)
# Deployments on the local server only simulate a run; keep them short so `make up` is quick.
deploy_ms="${DOKPLOY_LOCAL_DEPLOY_MS:-200}"

dokploy_pid() {
  # The pid in the file, if that process is still our dokploy_local (pids get reused).
  local pid
  pid=$(cat "$dokploy_dir/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && grep -qa "dokploy_local" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

dokploy_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$dokploy_port/api/health" >/dev/null 2>&1
}

start_dokploy() {
  mkdir -p "$dokploy_dir" && chmod 700 "$dokploy_dir"
  if [ ! -s "$dokploy_dir/api-key" ]; then
    (umask 077 && "$py" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$dokploy_dir/api-key")
  fi
  if dokploy_pid >/dev/null && dokploy_healthy; then
    return 0
  fi
  if dokploy_healthy; then
    echo "local-servers: port $dokploy_port already answers, but not with the server from $dokploy_dir; stop it first" >&2
    return 1
  fi
  # The key goes through the environment, not argv, so `ps` does not show it.
  (
    cd "$root"
    DOKPLOY_LOCAL_API_KEY=$(cat "$dokploy_dir/api-key") PYTHONPATH="$root" \
      setsid "$py" -m dokploy_local --host 127.0.0.1 --port "$dokploy_port" --data "$dokploy_dir" \
      --knob "deploy_duration_ms=$deploy_ms" </dev/null >>"$dokploy_dir/server.log" 2>&1 &
    echo $! > "$dokploy_dir/pid"
  )
  for _ in $(seq 1 100); do
    dokploy_healthy && return 0
    dokploy_pid >/dev/null || break
    sleep 0.2
  done
  echo "local-servers: the local Dokploy server did not start; see $dokploy_dir/server.log" >&2
  return 1
}

stop_dokploy() {
  local pid
  if pid=$(dokploy_pid); then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$dokploy_dir/pid"
}

openbao() {
  (cd "$root" && "$py" -m ops.openbao_server "$@" --data-dir "$openbao_dir")
}

case "${1:-}" in
  start)
    start_dokploy
    openbao start --port "$openbao_port" >/dev/null
    echo "local servers: Dokploy http://127.0.0.1:$dokploy_port, OpenBao $(cat "$openbao_dir/address")"
    ;;
  stop)
    stop_dokploy
    openbao stop >/dev/null || true
    echo "local servers stopped (data kept in .local/)"
    ;;
  status)
    if dokploy_pid >/dev/null && dokploy_healthy; then echo "dokploy: running on $dokploy_port"; else echo "dokploy: stopped"; fi
    openbao status
    ;;
  env)
    echo "export DOKPLOY_API_KEY=\"\$(cat '$dokploy_dir/api-key')\""
    echo "export VAULT_ADDR=\"\$(cat '$openbao_dir/address')\""
    echo "export VAULT_TOKEN_FILE='$openbao_dir/stack-local.token'"
    echo "unset VAULT_TOKEN VAULT_SERVER_TOKEN"
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
