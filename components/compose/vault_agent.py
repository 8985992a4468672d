"""The vault-agent sidecar: its whole config travels inside the compose file (seed §3b, minus the git files).

The seed mounted `./vault-agent.hcl` and `./secrets.ctmpl` from a git checkout, which tied every compose
to the infra2 repository. Here the agent's HCL (with the template inline, `contents = <<EOT`) is an
environment value of the sidecar, written to disk by its entrypoint, so a raw compose is self-contained.
Its policy reads exactly the service's own KV secret (components/vault): derived values such as
DATABASE_URL are kept in that secret by the Vault component, built from the host names the compose uses.

How the agent logs in is the environment's `agent_auth` (docs/security-secrets.md):
  HOST_FILE    AppRole. The role_id is the role's fixed name (not secret), in the HCL; the secret_id is a
               file on the Dokploy host the admin issued, mounted as the compose secret `vault_secret_id`
               (`docker compose` bind-mounts it, `docker stack deploy` turns it into a swarm secret). Dokploy
               builds its deploy commands from the compose's env and files; neither holds a credential.
  DOKPLOY_ENV  a token in the compose's Dokploy env (`VAULT_APP_TOKEN`), minted by the PR's stack.
"""

from __future__ import annotations

from typing import Any

from components.compose.shell import literal
from components.environment import AgentAuth, Environment
from components.vault.authority import APPROLE_MOUNT, approle_role

AGENT_IMAGE = "hashicorp/vault:1.15"
RENDERED = "/vault/secrets/.env"
SECRETS_VOLUME = "secrets"
VAULT_TOKEN_KEY = "VAULT_APP_TOKEN"  # the Dokploy env key a DOKPLOY_ENV agent reads its token from
SECRET_ID = "vault_secret_id"  # the compose secret a HOST_FILE agent reads its AppRole secret_id from

# One shell-safe line per value: single-quoted, with embedded single quotes closed and reopened.
_QUOTE = "replaceAll \"'\" \"'\\\\''\""


def template(api_paths: list[str]) -> str:
    """The consul-template text: every key of each KV v2 secret as a line `set -a; . file` can load."""
    line = "{{ range $k, $v := .Data.data }}{{ $k }}='{{ $v | " + _QUOTE + " }}'\n{{ end }}"
    return "".join('{{ with secret "' + path + '" }}' + line + "{{ end }}" for path in api_paths)


def _auto_auth(role_id: str | None) -> str:
    if role_id is None:
        return (
            'auto_auth {\n  method "token_file" {\n    config = {\n'
            '      token_file_path = "/vault/token"\n    }\n  }\n}'
        )
    return (
        f'auto_auth {{\n  method "approle" {{\n    mount_path = "auth/{APPROLE_MOUNT}"\n    config = {{\n'
        '      role_id_file_path = "/vault/role-id"\n'
        f'      secret_id_file_path = "/run/secrets/{SECRET_ID}"\n'
        "      remove_secret_id_file_after_reading = false\n    }\n  }\n}"
    )


def agent_hcl(vault_address: str, api_paths: list[str], role_id: str | None = None) -> str:
    body = template(api_paths)
    return "\n".join(
        [
            'pid_file = "/tmp/vault-agent.pid"',
            f'vault {{\n  address = "{vault_address}"\n}}',
            _auto_auth(role_id),
            # Exit on a lasting failure so the orchestrator restarts the agent visibly instead of a stale file.
            'template_config {\n  exit_on_retry_failure = true\n  static_secret_render_interval = "5m"\n}',
            f'template {{\n  destination = "{RENDERED}"\n  perms = "0444"\n  contents = <<EOT\n{body}\nEOT\n}}',
            "",
        ]
    )


def sidecar(env: Environment, compose: str, api_paths: list[str], *, swarm: bool) -> dict[str, Any]:
    """The `vault-agent` service of `compose`. `swarm` picks restart semantics: `deploy.restart_policy`
    vs `restart`."""
    host_file = env.agent_auth is AgentAuth.HOST_FILE
    role_id = approle_role(env.name, compose) if host_file else None
    first = (
        f'printf "%s" "{role_id}" > /vault/role-id; '
        if host_file
        else 'printf "%s" "$VAULT_APP_TOKEN" > /vault/token; '
    )
    entry = (
        "set -eu; umask 077; " + first + 'printf "%s\\n" "$VAULT_AGENT_CONFIG" > /vault/agent.hcl; '
        "exec vault agent -config=/vault/agent.hcl"
    )
    environment: dict[str, Any] = {
        "VAULT_AGENT_CONFIG": literal(agent_hcl(env.vault_agent_address, api_paths, role_id)),
        "SKIP_SETCAP": "true",
    }
    if not host_file:
        environment = {
            VAULT_TOKEN_KEY: "${VAULT_APP_TOKEN:?VAULT_APP_TOKEN is not set in the Dokploy env}",
            **environment,
        }
    service: dict[str, Any] = {
        "image": AGENT_IMAGE,
        "entrypoint": ["/bin/sh", "-c", literal(entry)],
        "environment": environment,
        "volumes": [f"{SECRETS_VOLUME}:/vault/secrets"],
        "healthcheck": {
            "test": ["CMD-SHELL", f"test -s {RENDERED}"],
            "interval": "10s",
            "timeout": "5s",
            "retries": 3,
            "start_period": "30s",
        },
    }
    if host_file:
        service["secrets"] = [SECRET_ID]
    if swarm:
        service["deploy"] = {"replicas": 1, "restart_policy": {"condition": "any", "delay": "5s"}}
    else:
        service["restart"] = "always"
    return service


def top_level(env: Environment, compose: str) -> dict[str, Any]:
    """What the compose file declares at its top level for its agent: the host file of a HOST_FILE secret_id."""
    if env.agent_auth is not AgentAuth.HOST_FILE:
        return {}
    return {"secrets": {SECRET_ID: {"file": env.agent_secret_file(compose)}}}


def env_keys(env: Environment) -> tuple[str, ...]:
    """The keys of a compose's Dokploy env (the agent's only input from Dokploy)."""
    return () if env.agent_auth is AgentAuth.HOST_FILE else (VAULT_TOKEN_KEY,)


def secrets_volume() -> dict[str, Any]:
    """A tmpfs volume: rendered secrets never touch the host's disk (seed: tmpfs, 10m, 0755)."""
    return {"driver": "local", "driver_opts": {"type": "tmpfs", "device": "tmpfs", "o": "size=10m,mode=0755"}}
