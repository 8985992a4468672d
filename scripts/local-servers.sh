#!/usr/bin/env bash
# The embedded default's two servers, on loopback, with their data under .local/ (kept across restarts):
#   the local Dokploy API server  dokploy:url of Pulumi.local.yaml, :3800  (.local/dokploy; owner key in .local/dokploy/api-key)
#   OpenBao (raft storage)        vault:address of Pulumi.local.yaml, :8300 (.local/openbao; ops/openbao_server.py)
# Usage: local-servers.sh start | stop | status | env
# Each server belongs to its data directory: `stop` finds it there (not by the port in the config, which may
# have changed), `start` never runs a second one on the same data, and a lock serialises start and stop.
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
# The ports come from the local stack's own config, so the servers are where the stack looks for them. A file
# that is not YAML, or a URL that is not http://<loopback>:<port>, is one line naming the key and the fix.
read_ports() {
  "$py" - "$root/Pulumi.local.yaml" <<'PY'
import sys, urllib.parse
import yaml
path = sys.argv[1]
try:
    doc = yaml.safe_load(open(path)) or {}
    config = doc.get("config") or {}
except (OSError, yaml.YAMLError) as exc:
    where = getattr(exc, "problem_mark", None)
    at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
    problem = getattr(exc, "problem", None) or exc.__class__.__name__
    sys.exit(f"local-servers: Pulumi.local.yaml is not valid YAML{at} ({problem}); fix the file")
for key, default in (("dokploy:url", 3800), ("vault:address", 8300)):
    raw = str(config.get(key) or f"http://127.0.0.1:{default}")
    try:
        parts = urllib.parse.urlsplit(raw)
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or not port:
        sys.exit(f"local-servers: {key} {raw!r} in Pulumi.local.yaml is not http://127.0.0.1:<port>; set it to e.g. http://127.0.0.1:{default}")
    print(port)
PY
}
load_ports() {
  local ports
  ports=$(read_ports) || exit 1
  dokploy_port=$(sed -n 1p <<<"$ports")
  openbao_port=$(sed -n 2p <<<"$ports")
}
# Deployments on the local server only simulate a run; keep them short so `make up` is quick.
deploy_ms="${DOKPLOY_LOCAL_DEPLOY_MS:-200}"

lock() {
  # One `start` or `stop` at a time (two `make up` at once): the second waits for the first, then finds its
  # servers. The servers never inherit the lock (9>&- below).
  mkdir -p "$local_dir"
  exec 9>"$local_dir/servers.lock"
  if ! flock -w 120 9; then
    echo "local-servers: another start/stop has held $local_dir/servers.lock for 2 minutes; is it stuck?" >&2
    exit 1
  fi
}

dokploy_pids() {
  # Every dokploy_local serving this data directory, whatever port it listens on and whatever the pid file
  # says: `stop` ends them all and `start` never runs a second one on the same data.
  pgrep -f -- "-m dokploy_local .*--data $dokploy_dir( |\$)" || true
}

dokploy_pid() {
  # The pid in the file, if that process is still our dokploy_local for this data directory (pids get reused).
  local pid
  pid=$(cat "$dokploy_dir/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && dokploy_pids | grep -qx "$pid" && echo "$pid"
}

port_answers() {
  curl -fsS --max-time 2 "http://127.0.0.1:$1/api/health" >/dev/null 2>&1
}

dokploy_healthy() {
  port_answers "$dokploy_port"
}

port_in_use() {
  "$py" -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1"
}

start_dokploy() {
  mkdir -p "$dokploy_dir" && chmod 700 "$dokploy_dir"
  if [ ! -s "$dokploy_dir/api-key" ]; then
    (umask 077 && "$py" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$dokploy_dir/api-key")
  fi
  local pid
  if pid=$(dokploy_pid) && [ "$(cat "$dokploy_dir/port" 2>/dev/null)" = "$dokploy_port" ] && dokploy_healthy; then
    return 0
  fi
  if [ -n "$(dokploy_pids)" ]; then
    # Ours, but on another port (the config changed) or lost from the pid file: one server per data directory.
    echo "local-servers: the local Dokploy server for $dokploy_dir runs elsewhere; restarting it on port $dokploy_port" >&2
    stop_dokploy
  fi
  if port_in_use "$dokploy_port"; then
    echo "local-servers: port $dokploy_port (dokploy:url in Pulumi.local.yaml) is taken by another program; stop it or set dokploy:url to a free port" >&2
    return 1
  fi
  # The key goes through the environment, not argv, so `ps` does not show it.
  (
    cd "$root"
    DOKPLOY_LOCAL_API_KEY=$(cat "$dokploy_dir/api-key") PYTHONPATH="$root" \
      setsid "$py" -m dokploy_local --host 127.0.0.1 --port "$dokploy_port" --data "$dokploy_dir" \
      --knob "deploy_duration_ms=$deploy_ms" </dev/null >>"$dokploy_dir/server.log" 2>&1 9>&- &
    echo $! > "$dokploy_dir/pid"
  )
  echo "$dokploy_port" > "$dokploy_dir/port"
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
  for pid in $(dokploy_pids); do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  done
  rm -f "$dokploy_dir/pid" "$dokploy_dir/port"
}

openbao() {
  (cd "$root" && "$py" -m ops.openbao_server "$@" --data-dir "$openbao_dir")
}

case "${1:-}" in
  start)
    lock
    load_ports
    start_dokploy
    if [ -s "$openbao_dir/address" ] && [ "$(cat "$openbao_dir/address")" != "http://127.0.0.1:$openbao_port" ]; then
      openbao stop >/dev/null 2>&1 || true  # the config moved it: follow the config, one server per data dir
      rm -f "$openbao_dir/address"
    fi
    openbao start --port "$openbao_port" >/dev/null
    echo "local servers: Dokploy http://127.0.0.1:$dokploy_port, OpenBao $(cat "$openbao_dir/address")"
    ;;
  stop)
    # Whatever the config says now: the servers are found by their data directories, not by port.
    lock
    stop_dokploy
    openbao stop >/dev/null || true
    echo "local servers stopped (data kept in .local/)"
    ;;
  status)
    load_ports
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
