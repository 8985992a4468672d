"""Every Vault key of every service, per environment kind: the one place that says what exists and how.

Each key is in exactly one class:
  generated  a password, >= 24 random characters, created when missing and never overwritten;
  derived    rendered from a template whose `${service.KEY}` references name other keys (`|url` quotes
             the value for use inside a URL); recomputed when a source changes, and a hand-set value is
             replaced only when its source changed (a template without references is a constant);
  provided   set by a person (API keys, the shared MinIO's keys); never invented, missing is an error.

Staging and production follow the real system (seed-system.md §4, §9.10). `local` and `pr-<N>` have no
shared MinIO or OpenRouter account: their S3 credentials are throwaway generated ones and the OpenRouter
key is an empty constant (the app runs without its AI features), so `make up` and PR stacks need nothing
provided by hand and never touch a staging or production path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from components.environment import Environment

MIN_GENERATED_LENGTH = 24
DEFAULT_GENERATED_LENGTH = 32
S3_BUCKET = "statements"
DATABASE = "finance_report"
# Where backups go: an S3-compatible bucket the operator provides (docs/data.md, docs/first-day.md).
BACKUP_KEYS = ("BACKUP_S3_ENDPOINT", "BACKUP_S3_BUCKET", "BACKUP_S3_ACCESS_KEY", "BACKUP_S3_SECRET_KEY")


class KeyClass(StrEnum):
    GENERATED = "generated"
    DERIVED = "derived"
    PROVIDED = "provided"


@dataclass(frozen=True)
class KeySpec:
    name: str
    cls: KeyClass
    template: str = ""  # derived only
    length: int = DEFAULT_GENERATED_LENGTH  # generated only

    def __post_init__(self) -> None:
        if self.cls is KeyClass.GENERATED and self.length < MIN_GENERATED_LENGTH:
            raise ValueError(f"generated key {self.name} must be at least {MIN_GENERATED_LENGTH} characters")

    def to_inputs(self) -> dict[str, Any]:
        return {"name": self.name, "cls": self.cls.value, "template": self.template, "length": self.length}

    @classmethod
    def from_inputs(cls, raw: Mapping[str, Any]) -> KeySpec:
        return cls(str(raw["name"]), KeyClass(raw["cls"]), str(raw.get("template") or ""), int(raw["length"]))


def generated(name: str, length: int = DEFAULT_GENERATED_LENGTH) -> KeySpec:
    return KeySpec(name, KeyClass.GENERATED, length=length)


def derived(name: str, template: str) -> KeySpec:
    return KeySpec(name, KeyClass.DERIVED, template=template)


def provided(name: str) -> KeySpec:
    return KeySpec(name, KeyClass.PROVIDED)


@dataclass(frozen=True)
class ServiceSecrets:
    """One KV v2 secret: `<mount>/<path>` holding `keys`."""

    service: str
    path: str  # under the mount: finance_report/<env>/<service>
    keys: tuple[KeySpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def of(self, cls: KeyClass) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys if k.cls is cls)


@dataclass(frozen=True)
class Endpoints:
    """Non-secret facts the derived values embed. The compose files decide these names, so the
    FinanceReport component passes the ones it renders; the defaults follow the seed's naming."""

    postgres_host: str
    redis_host: str
    s3_endpoint: str
    minio_user: str = "finance-report"  # pr-<N>'s throwaway MinIO root user (not a secret)


def default_endpoints(env: Environment) -> Endpoints:
    # Data services are reached by their per-environment alias on Dokploy's shared network.
    pg, rd = env.service_host("postgres"), env.service_host("redis")
    # Their own MinIO (a throwaway one), or the platform's shared MinIO (seed §3b).
    minio = env.service_host("minio") if env.data.own_minio else f"platform-minio-{env.name}"
    s3 = f"http://{minio}:9000"
    return Endpoints(postgres_host=pg, redis_host=rd, s3_endpoint=s3)


def _database_url(pg_ref: str, host: str) -> str:
    return f"postgresql+asyncpg://postgres:${{{pg_ref}|url}}@{host}:5432/{DATABASE}"


def _redis_url(redis_ref: str, host: str) -> str:
    return f"redis://:${{{redis_ref}|url}}@{host}:6379/0"


def secret_layout(env: Environment, endpoints: Endpoints | None = None) -> tuple[ServiceSecrets, ...]:
    """The KV secrets of this environment, one per service, every path under `env.vault_prefix`."""
    ep = endpoints or default_endpoints(env)
    if env.data.bundled:
        (svc,) = env.services
        keys: tuple[KeySpec, ...] = (
            generated("POSTGRES_PASSWORD"),
            generated("REDIS_PASSWORD"),
            derived("MINIO_ROOT_USER", ep.minio_user),
            generated("MINIO_ROOT_PASSWORD"),
            derived("DATABASE_URL", _database_url(f"{svc}.POSTGRES_PASSWORD", ep.postgres_host)),
            derived("REDIS_URL", _redis_url(f"{svc}.REDIS_PASSWORD", ep.redis_host)),
            derived("S3_ENDPOINT", ep.s3_endpoint),
            derived("S3_ACCESS_KEY", f"${{{svc}.MINIO_ROOT_USER}}"),
            derived("S3_SECRET_KEY", f"${{{svc}.MINIO_ROOT_PASSWORD}}"),
            derived("S3_BUCKET", S3_BUCKET),
            derived("OPENROUTER_API_KEY", ""),
        )
        return (ServiceSecrets(svc, f"{env.vault_prefix}/{svc}", keys),)

    if not env.data.operator_keys:
        s3_and_ai: tuple[KeySpec, ...] = (
            generated("S3_ACCESS_KEY"),
            generated("S3_SECRET_KEY"),
            derived("OPENROUTER_API_KEY", ""),
        )
    else:
        s3_and_ai = (provided("S3_ACCESS_KEY"), provided("S3_SECRET_KEY"), provided("OPENROUTER_API_KEY"))
    app: tuple[KeySpec, ...] = (
        derived("DATABASE_URL", _database_url("postgres.POSTGRES_PASSWORD", ep.postgres_host)),
        derived("REDIS_URL", _redis_url("redis.PASSWORD", ep.redis_host)),
        derived("S3_ENDPOINT", ep.s3_endpoint),
        derived("S3_BUCKET", S3_BUCKET),
        *s3_and_ai,
    )
    # The backup destination (docs/data.md): set by the operator in the postgres secret, whose compose dumps
    # the database; the app compose's MinIO mirror gets the same values, derived.
    backup_keys = tuple(provided(k) for k in BACKUP_KEYS) if env.backups.enabled else ()
    backup_copies = tuple(derived(k, f"${{postgres.{k}}}") for k in BACKUP_KEYS) if env.backups.enabled else ()
    by_service: dict[str, tuple[KeySpec, ...]] = {
        "postgres": (generated("POSTGRES_PASSWORD"), *backup_keys),
        "redis": (generated("PASSWORD"),),
        "app": (*app, *backup_copies),
    }
    missing = [s for s in env.services if s not in by_service]
    if missing:
        raise ValueError(f"no Vault key definitions for services {missing} of {env.name}")
    return tuple(ServiceSecrets(s, f"{env.vault_prefix}/{s}", by_service[s]) for s in env.services)


def with_length(layout: Sequence[ServiceSecrets], length: int) -> tuple[ServiceSecrets, ...]:
    """The same layout with every generated key `length` long (tests use it to check the minimum)."""
    return tuple(
        replace(s, keys=tuple(replace(k, length=length) if k.cls is KeyClass.GENERATED else k for k in s.keys))
        for s in layout
    )


def service_keys(env: Environment, endpoints: Endpoints | None = None) -> dict[str, tuple[str, ...]]:
    """Key names per service: what the vault-agent template renders into each service's `.env`."""
    return {s.service: s.names for s in secret_layout(env, endpoints)}
