"""Compose templates as plain dict builders: one function per Dokploy compose service.

`postgres` and `redis` are `docker-compose` apps (data on named volumes, healthchecks, restart always);
`app` is a `stack` (swarm) so backend and frontend update start-first behind their healthchecks.
Swarm ignores `depends_on` conditions and `container_name`, so neither appears in `app`: the backend
waits for its secrets and retries migrations in its entrypoint instead. Services of different
composes meet on Dokploy's `dokploy-network` under per-environment aliases (`env.service_host`).
`pr-<N>` is one `docker-compose` app holding throwaway PostgreSQL, Redis and MinIO beside the app.
Every compose has a vault-agent sidecar (compose/vault_agent.py says how it logs in, per environment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.compose import backup, shell
from components.compose.vault_agent import SECRETS_VOLUME, secrets_volume, sidecar, top_level
from components.environment import Environment

POSTGRES_IMAGE = "postgres:16-alpine"
REDIS_IMAGE = "redis:7-alpine"
MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
MC_IMAGE = "minio/mc:RELEASE.2025-04-16T18-13-26Z"
DOKPLOY_NETWORK = "dokploy-network"
BACKEND_PORT = 8000
FRONTEND_PORT = 3000
DATABASE = "finance_report"
BUCKET = "statements"


@dataclass(frozen=True)
class Images:
    """Full image references (tag or digest) for the two application images."""

    backend: str
    frontend: str


def _external_network() -> dict[str, Any]:
    return {DOKPLOY_NETWORK: {"external": True}}


def _on_networks(*aliases: str) -> dict[str, Any]:
    shared: dict[str, Any] = {"aliases": list(aliases)} if aliases else {}
    return {"default": None, DOKPLOY_NETWORK: shared or None}


def _rolling(service: dict[str, Any]) -> dict[str, Any]:
    """Swarm deploy settings: start the new task first, keep the old one until the new one is healthy."""
    update = {"parallelism": 1, "order": "start-first", "failure_action": "rollback", "monitor": "60s"}
    service["deploy"] = {
        "replicas": 1,
        "update_config": update,
        "rollback_config": {"parallelism": 1, "order": "start-first"},
        "restart_policy": {"condition": "any", "delay": "5s"},
    }
    return service


def _healthcheck(test: list[str], *, start_period: str, interval: str = "30s") -> dict[str, Any]:
    return {"test": test, "interval": interval, "timeout": "10s", "retries": 5, "start_period": start_period}


def backend_health_test(env: Environment) -> list[str]:
    path = env.routing.backend_path(env.routing.health_path)
    return ["CMD", "curl", "-fsS", f"http://127.0.0.1:{BACKEND_PORT}{path}"]


def frontend_health_test() -> list[str]:
    # node:20-alpine has no curl; node's fetch does the same check.
    probe = f"fetch('http://127.0.0.1:{FRONTEND_PORT}/').then(r=>process.exit(r.status<500?0:1),()=>process.exit(1))"
    return ["CMD", "node", "-e", probe]


def _backend_start(*, wait_for_secrets: bool) -> list[str]:
    steps = ["cd /app", "export PYTHONPATH=/app"]
    if wait_for_secrets:
        steps.append(shell.wait_for_secrets())
    steps.append(shell.retry("alembic upgrade head", attempts=30, delay_seconds=5, what="alembic upgrade head"))
    steps.append(f"exec uvicorn src.main:app --host 0.0.0.0 --port {BACKEND_PORT}")
    return shell.script(*steps)


def _frontend(env: Environment, image: str) -> dict[str, Any]:
    return {
        "image": image,
        "environment": {
            # The frontend appends /api/... itself, so this is the bare origin (the seed's /api/api bug).
            "NEXT_PUBLIC_API_URL": env.api_url,
            "HOSTNAME": "0.0.0.0",  # noqa: S104 - inside the container; Next binds to $HOSTNAME
            "PORT": str(FRONTEND_PORT),
        },
        "healthcheck": _healthcheck(frontend_health_test(), start_period="30s"),
    }


def _data(env: Environment, service: str) -> str:
    """A named volume, or the host directory `dataPath/<service>` (the live system's bind mounts)."""
    return f"{env.data_path}/{service}" if env.data_path else f"{service}_data"


def _data_volumes(env: Environment, service: str) -> dict[str, Any]:
    named: dict[str, Any] = {} if env.data_path else {f"{service}_data": {}}
    return {**named, SECRETS_VOLUME: secrets_volume()}


def postgres_compose(env: Environment) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if env.backups.enabled:  # the scheduled dump (docs/data.md); on the shared network to reach the alias
        service = backup.postgres_backup(env, POSTGRES_IMAGE, env.service_host("postgres"), DATABASE)
        extra["backup"] = {**service, "networks": _on_networks()}
    return {
        "services": {
            "vault-agent": sidecar(env, "postgres", [env.vault_api_path("postgres")], swarm=False),
            "postgres": {
                "image": POSTGRES_IMAGE,
                "restart": "always",
                "entrypoint": shell.script(shell.wait_for_secrets(), "exec docker-entrypoint.sh postgres"),
                "environment": {
                    "POSTGRES_USER": "postgres",
                    "POSTGRES_DB": DATABASE,
                    "PGDATA": "/var/lib/postgresql/data/pgdata",
                },
                "volumes": [f"{_data(env, 'postgres')}:/var/lib/postgresql/data", f"{SECRETS_VOLUME}:/secrets:ro"],
                "healthcheck": _healthcheck(
                    ["CMD", "pg_isready", "-U", "postgres", "-d", DATABASE], start_period="30s", interval="10s"
                ),
                "networks": _on_networks(env.service_host("postgres")),
            },
            **extra,
        },
        "volumes": _data_volumes(env, "postgres"),
        "networks": _external_network(),
        **top_level(env, "postgres"),
    }


def redis_compose(env: Environment) -> dict[str, Any]:
    # The password goes into a config file, not argv, so `ps` in the container does not show it.
    start = shell.script(
        shell.wait_for_secrets(),
        "umask 077",
        'printf \'requirepass "%s"\\n\' "$PASSWORD" > /tmp/redis.conf',
        "exec redis-server /tmp/redis.conf --save 60 1 --appendonly yes --loglevel warning",
    )
    ping = shell.literal('. /secrets/.env && REDISCLI_AUTH="$PASSWORD" redis-cli ping | grep -q PONG')
    return {
        "services": {
            "vault-agent": sidecar(env, "redis", [env.vault_api_path("redis")], swarm=False),
            "redis": {
                "image": REDIS_IMAGE,
                "restart": "always",
                "entrypoint": start,
                "volumes": [f"{_data(env, 'redis')}:/data", f"{SECRETS_VOLUME}:/secrets:ro"],
                "healthcheck": _healthcheck(["CMD-SHELL", ping], start_period="10s", interval="10s"),
                "networks": _on_networks(env.service_host("redis")),
            },
        },
        "volumes": _data_volumes(env, "redis"),
        "networks": _external_network(),
        **top_level(env, "redis"),
    }


def app_compose(env: Environment, images: Images) -> dict[str, Any]:
    backend = {
        "image": images.backend,
        "entrypoint": _backend_start(wait_for_secrets=True),
        "environment": {"ENV": env.name, "DEBUG": "false"},
        "volumes": [f"{SECRETS_VOLUME}:/secrets:ro"],
        "healthcheck": _healthcheck(backend_health_test(env), start_period="180s"),
        "networks": _on_networks(),
    }
    frontend = _frontend(env, images.frontend)
    frontend["networks"] = _on_networks()
    extra: dict[str, Any] = {}
    if env.backups.enabled:  # the MinIO bucket's copy (docs/data.md)
        extra["minio-mirror"] = {**backup.minio_mirror(env, MC_IMAGE), "networks": _on_networks()}
    return {
        "services": {
            "vault-agent": sidecar(env, "app", [env.vault_api_path("app")], swarm=True),
            "backend": _rolling(backend),
            "frontend": _rolling(frontend),
            **extra,
        },
        "volumes": {SECRETS_VOLUME: secrets_volume()},
        "networks": _external_network(),
        **top_level(env, "app"),
    }


def s3_endpoint(env: Environment) -> str | None:
    """The throwaway MinIO of a bundled compose (preview); None elsewhere (no compose of theirs runs MinIO)."""
    return f"http://{env.service_host('minio')}:9000" if env.data.bundled else None


def preview_compose(env: Environment, images: Images) -> dict[str, Any]:
    """pr-<N>: everything in one compose. Its credentials are generated in Vault for this stack (one KV
    secret, one token) and reach every service through the same vault-agent file as elsewhere."""
    assert env.data.bundled
    healthy = {"condition": "service_healthy"}
    # Unique names even inside the compose: Dokploy puts backend and frontend on the shared network too,
    # where bare names like `postgres` could resolve to another environment's service.
    pg, rd, s3 = (env.service_host(s) for s in ("postgres", "redis", "minio"))
    secrets_ro = f"{SECRETS_VOLUME}:/secrets:ro"
    agent_ready = {"vault-agent": healthy}

    def waits(*steps: str) -> list[str]:
        return shell.script(shell.wait_for_secrets(), *steps)

    backend = {
        "image": images.backend,
        "restart": "unless-stopped",
        "entrypoint": _backend_start(wait_for_secrets=True),
        "environment": {"ENV": env.name, "DEBUG": "true"},
        "volumes": [secrets_ro],
        "depends_on": {
            "postgres": healthy,
            "redis": healthy,
            "minio-init": {"condition": "service_completed_successfully"},
        },
        "healthcheck": _healthcheck(backend_health_test(env), start_period="120s"),
    }
    frontend = _frontend(env, images.frontend)
    frontend.update(restart="unless-stopped", depends_on={"backend": healthy})
    minio_ready = shell.retry(
        f'mc alias set local http://{s3}:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"',
        attempts=30,
        delay_seconds=2,
        what="mc alias set",
    )
    redis_ping = shell.literal('. /secrets/.env && REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG')
    return {
        "services": {
            "vault-agent": sidecar(env, env.name, [env.vault_api_path(env.name)], swarm=False),
            "postgres": {
                "image": POSTGRES_IMAGE,
                "restart": "unless-stopped",
                "entrypoint": waits("exec docker-entrypoint.sh postgres"),
                "environment": {"POSTGRES_USER": "postgres", "POSTGRES_DB": DATABASE},
                "volumes": ["postgres_data:/var/lib/postgresql/data", secrets_ro],
                "depends_on": agent_ready,
                "healthcheck": _healthcheck(
                    ["CMD", "pg_isready", "-U", "postgres", "-d", DATABASE], start_period="20s", interval="5s"
                ),
                "networks": {"default": {"aliases": [pg]}},
            },
            "redis": {
                "image": REDIS_IMAGE,
                "restart": "unless-stopped",
                "entrypoint": waits(
                    "umask 077",
                    'printf \'requirepass "%s"\\n\' "$REDIS_PASSWORD" > /tmp/redis.conf',
                    "exec redis-server /tmp/redis.conf",
                ),
                "volumes": ["redis_data:/data", secrets_ro],
                "depends_on": agent_ready,
                "healthcheck": _healthcheck(["CMD-SHELL", redis_ping], start_period="5s", interval="5s"),
                "networks": {"default": {"aliases": [rd]}},
            },
            "minio": {
                "image": MINIO_IMAGE,
                "restart": "unless-stopped",
                "entrypoint": waits("exec minio server /data --console-address :9001"),
                "volumes": ["minio_data:/data", secrets_ro],
                "depends_on": agent_ready,
                "healthcheck": _healthcheck(["CMD", "mc", "ready", "local"], start_period="10s", interval="5s"),
                "networks": {"default": {"aliases": [s3]}},
            },
            "minio-init": {
                "image": MC_IMAGE,
                "entrypoint": waits(minio_ready, f"mc mb --ignore-existing local/{BUCKET}"),
                "volumes": [secrets_ro],
                "depends_on": {"minio": healthy},
            },
            "backend": backend,
            "frontend": frontend,
        },
        "volumes": {"postgres_data": {}, "redis_data": {}, "minio_data": {}, SECRETS_VOLUME: secrets_volume()},
        **top_level(env, env.name),
    }
