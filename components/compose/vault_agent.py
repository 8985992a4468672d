"""The vault-agent sidecar: its whole config travels inside the compose file (seed §3b, minus the git files).

The seed mounted `./vault-agent.hcl` and `./secrets.ctmpl` from a git checkout, which tied every compose
to the infra2 repository. Here the agent's HCL (with the template inline, `contents = <<EOT`) is an
environment value of the sidecar, written to disk by its entrypoint, so a raw compose is self-contained.
The only value taken from Dokploy's env is `VAULT_APP_TOKEN`, the service's own token, whose policy
reads exactly the service's own KV secret (components/vault): derived values such as DATABASE_URL are
kept in that secret by the Vault component, built from the host names the compose files use.
"""

from __future__ import annotations

from typing import Any

from components.compose.shell import literal

AGENT_IMAGE = "hashicorp/vault:1.15"
RENDERED = "/vault/secrets/.env"
SECRETS_VOLUME = "secrets"

# One shell-safe line per value: single-quoted, with embedded single quotes closed and reopened.
_QUOTE = "replaceAll \"'\" \"'\\\\''\""


def template(api_paths: list[str]) -> str:
    """The consul-template text: every key of each KV v2 secret as a line `set -a; . file` can load."""
    line = "{{ range $k, $v := .Data.data }}{{ $k }}='{{ $v | " + _QUOTE + " }}'\n{{ end }}"
    return "".join('{{ with secret "' + path + '" }}' + line + "{{ end }}" for path in api_paths)


def agent_hcl(vault_address: str, api_paths: list[str]) -> str:
    body = template(api_paths)
    return "\n".join(
        [
            'pid_file = "/tmp/vault-agent.pid"',
            f'vault {{\n  address = "{vault_address}"\n}}',
            'auto_auth {\n  method "token_file" {\n    config = {\n'
            '      token_file_path = "/vault/token"\n    }\n  }\n}',
            # Exit on a lasting failure so the orchestrator restarts the agent visibly instead of a stale file.
            'template_config {\n  exit_on_retry_failure = true\n  static_secret_render_interval = "5m"\n}',
            f'template {{\n  destination = "{RENDERED}"\n  perms = "0444"\n  contents = <<EOT\n{body}\nEOT\n}}',
            "",
        ]
    )


def sidecar(vault_address: str, api_paths: list[str], *, swarm: bool) -> dict[str, Any]:
    """The `vault-agent` service. `swarm` picks restart semantics: `deploy.restart_policy` vs `restart`."""
    entry = (
        "set -eu; umask 077; "
        'printf "%s" "$VAULT_APP_TOKEN" > /vault/token; '
        'printf "%s\\n" "$VAULT_AGENT_CONFIG" > /vault/agent.hcl; '
        "exec vault agent -config=/vault/agent.hcl"
    )
    service: dict[str, Any] = {
        "image": AGENT_IMAGE,
        "entrypoint": ["/bin/sh", "-c", literal(entry)],
        "environment": {
            "VAULT_APP_TOKEN": "${VAULT_APP_TOKEN:?VAULT_APP_TOKEN is not set in the Dokploy env}",
            "VAULT_AGENT_CONFIG": literal(agent_hcl(vault_address, api_paths)),
            "SKIP_SETCAP": "true",
        },
        "volumes": [f"{SECRETS_VOLUME}:/vault/secrets"],
        "healthcheck": {
            "test": ["CMD-SHELL", f"test -s {RENDERED}"],
            "interval": "10s",
            "timeout": "5s",
            "retries": 3,
            "start_period": "30s",
        },
    }
    if swarm:
        service["deploy"] = {"replicas": 1, "restart_policy": {"condition": "any", "delay": "5s"}}
    else:
        service["restart"] = "always"
    return service


def secrets_volume() -> dict[str, Any]:
    """A tmpfs volume: rendered secrets never touch the host's disk (seed: tmpfs, 10m, 0755)."""
    return {"driver": "local", "driver_opts": {"type": "tmpfs", "device": "tmpfs", "o": "size=10m,mode=0755"}}
