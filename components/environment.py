"""The environment model: the one place where environments differ.

`environment_for(stack, config)` turns a stack name and that stack's config into one frozen
`Environment`. Everything downstream (components, workflows' helpers, tests) reads this object;
nothing else looks at the stack name. Pure Python: no Pulumi import, so it is cheap to test.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

VALID_STACKS_HELP = "valid stack names: pr-<N> (N a positive integer), staging, production, local"

_PR_STACK = re.compile(r"^pr-([1-9][0-9]*)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_RELEASE_TAG = re.compile(r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")

PROJECT = "finance_report"
PREVIEW_PROJECT = "finance_report-preview"
DEFAULT_BASE_DOMAIN = "zitian.party"
LOCAL_BASE_DOMAIN = "localhost.localdomain"
DEFAULT_IMAGE_REPOSITORY = "ghcr.io/wangzitian0/finance_report"
DEFAULT_VAULT_ADDRESS = "https://vault.zitian.party"
# Workflow variables of the Dokploy instances (Environment.dokploy_instance).
DOKPLOY_URL_VARIABLES = {"preview": "DOKPLOY_PREVIEW_URL", "main": "DOKPLOY_URL"}
_DOKPLOY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$")
# An OCI repository (optional registry host[:port], lower-case path components): it goes into the compose
# file verbatim, so anything else (spaces, `$` interpolation, quotes) would change what the compose means.
_OCI_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REPOSITORY = re.compile(rf"^(?:[a-z0-9.-]+(?::[0-9]{{1,5}})?/)?{_OCI_COMPONENT}(?:/{_OCI_COMPONENT})*$")
# A URL path as Traefik rules and health checks carry it: no quotes, spaces or `$`.
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_VAULT_MOUNT = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")


class ConfigError(ValueError):
    """Bad stack name or stack config. The message is one line naming what is wrong and the fix."""


# Model keys a stack sets under another name than `financeReport:<key>` (components/program.py read_model).
FOREIGN_CONFIG_KEYS = {"vaultAddress": "vault:address"}


def config_key(key: str) -> str:
    """The stack config key a user sets for a model key, as messages name it: `financeReport:imageTag`."""
    return FOREIGN_CONFIG_KEYS.get(key.partition(".")[0], f"financeReport:{key}")


class Kind(StrEnum):
    PREVIEW = "preview"  # pr-<N>: short-lived, one compose, throwaway data
    STAGING = "staging"
    PRODUCTION = "production"
    LOCAL = "local"  # the embedded default: one machine, local Dokploy and OpenBao


class ComposePolicy(StrEnum):
    ENFORCE = "enforce"
    ADVISORY = "advisory"


class Site(StrEnum):
    """Where a stack's Dokploy and Vault are (config `financeReport:site`)."""

    HOSTED = "hosted"  # the team's servers, driven from CI: the public base domain, GitHub managed
    LOCAL = "local"  # this machine's servers (`make up`): a loopback-only base domain, GitHub out of reach


@dataclass(frozen=True)
class SiteDefaults:
    base_domain: str
    github: bool  # whether GitHub can be managed from there at all (manageGithub may still turn it off)


_PER_SITE: dict[Site, SiteDefaults] = {
    Site.HOSTED: SiteDefaults(base_domain=DEFAULT_BASE_DOMAIN, github=True),
    Site.LOCAL: SiteDefaults(base_domain=LOCAL_BASE_DOMAIN, github=False),
}


class ImagePolicy(StrEnum):
    BUILD = "build"  # CI builds and pushes the tag; the compose uses it by tag
    VERIFY_DIGEST = "verify-digest"  # never built; the tag must exist and is pinned by digest
    LOCAL_TAG = "local-tag"  # no registry check; images by tag (nothing is pulled locally)


class AgentAuth(StrEnum):
    """How a compose's vault-agent proves who it is (docs/security-secrets.md)."""

    # AppRole: a fixed role_id in the compose, the secret_id in a file on the Dokploy host that the admin
    # issued (ops.vault_bootstrap --agent-credentials-dir); mounted as a compose secret. Nothing secret
    # passes through Pulumi's state, Dokploy's env, or a command line Dokploy builds.
    HOST_FILE = "host-file"
    # A token the stack mints (its own PR's paths only) in the compose's Dokploy env: a PR has no admin
    # to issue host files, and what the token opens is that PR's throwaway secrets.
    DOKPLOY_ENV = "dokploy-env"


DEFAULT_AGENT_CREDENTIALS_DIR = "/etc/finance-report/vault"


@dataclass(frozen=True)
class Managers:
    """Which lower components this environment turns on."""

    dokploy: bool
    vault: bool
    github: bool
    registry: bool  # OCI lookups of image digests


@dataclass(frozen=True)
class Routing:
    api_path: str  # the path prefix routed to the backend
    strip_api_prefix: bool  # the backend's routers already carry /api, so by default it is kept
    health_path: str  # backend health endpoint, as seen from the public host

    def backend_path(self, public_path: str) -> str:
        """The path the backend receives for a public path under `api_path` (Traefik's stripPrefix)."""
        if self.strip_api_prefix and (public_path == self.api_path or public_path.startswith(self.api_path + "/")):
            return public_path[len(self.api_path) :] or "/"
        return public_path


@dataclass(frozen=True)
class Adoption:
    """Live Dokploy objects this stack takes over by id instead of creating (config `financeReport:adopt`).

    Used once, to put an existing deployment under this program (docs/adoption.md); afterwards the ids
    are in the state and the config may stay or go.
    """

    projects: tuple[tuple[str, str], ...] = ()  # Dokploy project name -> projectId (owner stacks only)
    environment: str | None = None  # environmentId
    composes: tuple[tuple[str, str], ...] = ()  # compose name (postgres, redis, app) -> composeId
    domains: tuple[tuple[str, str], ...] = ()  # route (api, web) -> domainId

    def project(self, name: str) -> str | None:
        return dict(self.projects).get(name)

    def compose(self, name: str) -> str | None:
        return dict(self.composes).get(name)

    def domain(self, route: str) -> str | None:
        return dict(self.domains).get(route)


ADOPTABLE_ROUTES = ("api", "web")


@dataclass(frozen=True)
class DataServices:
    """Where this environment's data services (postgres, redis, MinIO) run and where their keys come from."""

    # True: throwaway postgres, redis and MinIO live inside the one compose named after the environment,
    # next to the app, with every credential generated in one Vault secret (pr-<N>). False: separate
    # `postgres` and `redis` composes deploy before `app`, each with its own Vault secret.
    bundled: bool
    # True: the environment's own MinIO, reached at `service_host("minio")` (pr-<N>'s in-compose one,
    # local's). False: the platform's shared MinIO, `platform-minio-<name>` (staging, production).
    own_minio: bool
    # True: the operator puts the S3 keys and the OpenRouter key into Vault (`provided`). False: the S3 keys
    # are generated and the OpenRouter key is empty (nothing real to call).
    operator_keys: bool


@dataclass(frozen=True)
class Backups:
    """What this environment backs up, when, and how much it keeps (docs/data.md).

    On: the postgres compose's `backup` service dumps the database on `schedule` (cron, UTC) to the S3
    destination in Vault (`BACKUP_S3_*` of the postgres secret) and keeps the newest `keep` dumps; the app
    compose's `minio-mirror` copies the MinIO bucket there every `mirror_minutes`. Off: nothing of it exists.
    """

    enabled: bool
    schedule: str = ""  # cron (5 fields, UTC) of the database dump
    keep: int = 0  # dumps kept; older ones are deleted after each successful upload
    mirror_minutes: int = 0  # how often the MinIO bucket is mirrored

    def prefix(self, env_name: str, what: str) -> str:
        """Where an environment's backups of `what` (postgres, minio) live in the destination bucket."""
        return f"{env_name}/{what}"


NO_BACKUPS = Backups(enabled=False)
_CRON = re.compile(r"^(\S+\s+){4}\S+$")
_CRON_FIELD = re.compile(r"^[0-9*/,-]+$")


@dataclass(frozen=True)
class GithubSide:
    """What this stack's GitHub plan is made of (components/github.py `plan_for`)."""

    supported: bool  # False: the stack has no GitHub side at all (local); plan_for refuses it
    # True: the stack creates (and destroys) its own GitHub environment, named after it, and owns nothing
    # shared (pr-<N>). False: its environment is one of the shared gates the owner stack creates.
    own_environment: bool
    # True: its PULUMI_STACK/ENVIRONMENT_URL variables also go into the read-only GitHub environment its
    # plan and drift jobs run in (production).
    readonly_variables: bool


@dataclass(frozen=True)
class Environment:
    stack: str
    kind: Kind
    name: str  # the environment's own name: pr-7, staging, production, local
    site: Site  # where its servers are; decides the base domain's default and whether GitHub is reachable
    pr_number: int | None
    base_domain: str
    host: str
    dokploy_project: str
    dokploy_environment: str
    adopt_default_environment: bool  # production is the project's undeletable default environment
    owns_projects: bool  # exactly one long-lived stack per Dokploy server owns the shared projects
    services: tuple[str, ...]  # Dokploy compose services, in deploy order groups handled by the component
    protect_data: bool
    delete_volumes_on_destroy: bool
    image_policy: ImagePolicy
    image_repository: str
    image_tag: str
    vault_prefix: str  # KV path prefix under the mount: finance_report/<name>
    vault_mount: str
    managers: Managers
    routing: Routing
    deploy_timeout_seconds: int
    vault_address: str  # the Vault/OpenBao this stack talks to (vault:address or VAULT_ADDR)
    vault_agent_address: str  # the Vault address the vault-agent sidecars use from inside Dokploy
    data_path: str | None  # host directory for postgres/redis data (bind mounts, as the seed had); None: named volumes
    project_ref: str | None  # non-owners: the id of the project their environment lives in (else looked up)
    adoption: Adoption
    data: DataServices
    app_compose: str  # the compose that serves HTTP (the domains attach to it): `app`, or the one pr-<N> compose
    # Dokploy appName of each compose (its Docker project/stack name); `{name}` the environment, `{compose}`
    # the compose. One compose per environment needs no `{compose}`.
    app_name_pattern: str
    floating_tags: tuple[str, ...]  # extra tags CI pushes with the exact one (staging: `staging`)
    github: GithubSide
    # The image tag CI builds from a commit, `{sha7}` its first 7 hex digits; None: never built from a commit
    # (production deploys a released vX.Y.Z, local uses local tags).
    commit_tag_pattern: str | None
    agent_auth: AgentAuth  # how the vault-agent sidecars authenticate
    agent_credentials_dir: str  # HOST_FILE: the Dokploy host's directory of `<appName>.secret-id` files
    backups: Backups

    def agent_secret_file(self, compose: str) -> str:
        """HOST_FILE: the host file holding the AppRole secret_id of one compose's vault-agent."""
        return f"{self.agent_credentials_dir}/{self.compose_app_name(compose)}.secret-id"

    # What a compose asking for the host (privileged, host mounts, docker.sock, host network/pid, cap_add)
    # meets: refused before any change (ENFORCE), or a warning (ADVISORY: PR runs, whose code is the PR's).
    compose_policy: ComposePolicy
    # Which Dokploy instance the workflows point this stack at: `preview` (DOKPLOY_PREVIEW_URL and keys,
    # a server of its own, recommended: docs/security.md) or `main` (the one staging and production use).
    dokploy_instance: str

    @property
    def dokploy_url_variable(self) -> str:
        """The repository variable holding this stack's Dokploy URL in the workflows (DOKPLOY_URL is the
        fallback when a single instance serves everything)."""
        return DOKPLOY_URL_VARIABLES[self.dokploy_instance]

    @property
    def shared_projects(self) -> tuple[str, ...]:
        """The Dokploy projects an owner stack creates (and protects, outside `local`)."""
        return (PROJECT, PREVIEW_PROJECT) if self.owns_projects else ()

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    @property
    def api_url(self) -> str:
        """What the frontend's NEXT_PUBLIC_API_URL holds: it appends `/api/...` itself (seed §3c)."""
        return self.url

    @property
    def is_ephemeral(self) -> bool:
        return self.kind is Kind.PREVIEW

    def vault_path(self, service: str) -> str:
        """A service's KV path under the mount: finance_report/<name>/<service>."""
        return f"{self.vault_prefix}/{service}"

    def vault_api_path(self, service: str) -> str:
        """The same secret as the KV v2 HTTP path a vault-agent template reads."""
        return f"{self.vault_mount}/data/{self.vault_path(service)}"

    def service_host(self, service: str) -> str:
        """A data service's DNS name on Dokploy's shared network, unique per environment."""
        return f"{PROJECT}-{service}-{self.name}"

    def compose_app_name(self, compose: str) -> str:
        """The Dokploy appName of one of this environment's composes (`app_name_pattern` filled in)."""
        return self.app_name_pattern.format(name=self.name, compose=compose)

    def image(self, component: str) -> str:
        """`<repository>-<component>:<tag>` for backend or frontend (one tag for both)."""
        return f"{self.image_repository}-{component}:{self.image_tag}"


def parse_stack(stack: str) -> tuple[Kind, int | None]:
    if stack in ("staging", "production", "local"):
        return Kind(stack), None
    m = _PR_STACK.match(stack)
    if m:
        return Kind.PREVIEW, int(m.group(1))
    raise ConfigError(f"unknown stack name {stack!r}; {VALID_STACKS_HELP}")


def _bool(config: Mapping[str, str], key: str, default: bool) -> bool:
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    low = str(raw).strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ConfigError(f"config {config_key(key)}={raw!r} is not a boolean; set it to true or false")


def _int(config: Mapping[str, str], key: str, default: int, minimum: int = 1) -> int:
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"config {config_key(key)}={raw!r} is not an integer; set a whole number") from None
    if value < minimum:
        raise ConfigError(f"config {config_key(key)}={value} is below {minimum}; set a larger value")
    return value


def _url(config: Mapping[str, str], key: str, default: str, label: str | None = None) -> str:
    raw = str(config.get(key) or default).rstrip("/")
    if not _URL.match(raw):
        raise ConfigError(f"config {label or config_key(key)}={raw!r} is not an http(s) URL; set e.g. {default}")
    return raw


_SHAPES = {
    _IMAGE_REPOSITORY: "an OCI repository (lower-case [host[:port]/]path, no spaces, '$' or quotes)",
    _URL_PATH: "a URL path ('/' then letters, digits, '-', '.', '_', '~', '/'; no quotes or spaces)",
    _VAULT_MOUNT: "a Vault mount path (letters, digits, '-', '_', '/')",
}


def _matching(config: Mapping[str, Any], key: str, default: str, pattern: re.Pattern[str], example: str) -> str:
    raw = config.get(key)
    value = default if raw in (None, "") else str(raw)
    if not pattern.match(value):
        raise ConfigError(f"config {key}={value!r} is not {_SHAPES[pattern]}; set e.g. {example}")
    return value


def _data_path(raw: object, kind: Kind) -> str | None:
    if raw in (None, ""):
        return None
    path = str(raw).rstrip("/")
    if not re.match(r"^/[A-Za-z0-9._/-]+$", path) or "/.." in path:
        raise ConfigError(
            f"config financeReport:dataPath={raw!r} is not an absolute host path; e.g. /data/finance_report"
        )
    if kind is Kind.PREVIEW:
        raise ConfigError("a pr-<N> stack keeps throwaway data in volumes; remove financeReport:dataPath")
    return path


def _id(where: str, raw: object) -> str:
    value = str(raw or "").strip()
    if not _DOKPLOY_ID.match(value):
        raise ConfigError(
            f"config {config_key(where)}={value!r} is not a Dokploy id (letters, digits, '-', '_'); "
            "copy it from Dokploy"
        )
    return value


def _adoption(raw: object, kind: Kind, services: tuple[str, ...], owns: bool) -> Adoption:
    if raw in (None, "", {}):
        return Adoption()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ConfigError(
                "config financeReport:adopt is not an object; see docs/adoption.md for its shape"
            ) from None
    if not isinstance(raw, Mapping):
        raise ConfigError("config financeReport:adopt is not an object; see docs/adoption.md for its shape")
    if kind is Kind.PREVIEW:
        raise ConfigError("a pr-<N> stack adopts nothing: it creates its own objects; remove financeReport:adopt")
    unknown = set(raw) - {"projects", "environment", "composes", "domains"}
    if unknown:
        raise ConfigError(
            f"config financeReport:adopt has unknown keys {sorted(unknown)}; "
            "use projects, environment, composes, domains"
        )

    def table(key: str, allowed: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        items = raw.get(key) or {}
        if not isinstance(items, Mapping):
            raise ConfigError(f"config financeReport:adopt.{key} must map names to ids")
        bad = sorted(set(items) - set(allowed))
        if bad:
            raise ConfigError(f"config financeReport:adopt.{key} names {bad}; this stack has only {list(allowed)}")
        return tuple(sorted((str(k), _id(f"adopt.{key}.{k}", v)) for k, v in items.items()))

    projects = table("projects", (PROJECT, PREVIEW_PROJECT))
    if projects and not owns:
        raise ConfigError(
            "only the stack that owns the shared projects adopts them (financeReport:adopt.projects); "
            "use financeReport:projectId here"
        )
    env_id = raw.get("environment")
    return Adoption(
        projects=projects,
        environment=_id("adopt.environment", env_id) if env_id else None,
        composes=table("composes", services),
        domains=table("domains", ADOPTABLE_ROUTES),
    )


def _default_tag(kind: Kind, pr_number: int | None) -> str:
    # Local runs nothing from a registry; CI passes the real tag for the others.
    if kind is Kind.LOCAL:
        return "local"
    if kind is Kind.PREVIEW:
        return f"pr-{pr_number}-0000000"
    return ""


def validate_image_tag(kind: Kind, tag: str, pr_number: int | None) -> None:
    """The tag rules per environment, with messages that say how to fix them."""
    if kind is Kind.PRODUCTION:
        if not _RELEASE_TAG.fullmatch(tag):
            raise ConfigError(
                f"production image tag {tag!r} is not a release tag vX.Y.Z; "
                "set financeReport:imageTag to a tag staging has released (e.g. v1.0.45)"
            )
    elif kind is Kind.STAGING:
        if not re.fullmatch(r"sha-[0-9a-f]{7}", tag):
            raise ConfigError(
                f"staging image tag {tag!r} is not sha-<7 hex>; set financeReport:imageTag to sha-<commit[:7]>"
            )
    elif kind is Kind.PREVIEW:
        if not re.fullmatch(rf"pr-{pr_number}-[0-9a-f]{{7}}", tag):
            raise ConfigError(
                f"image tag {tag!r} does not match pr-{pr_number}-<7 hex>; "
                f"set financeReport:imageTag to pr-{pr_number}-<commit[:7]>"
            )
    elif not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise ConfigError(f"image tag {tag!r} is not a valid OCI tag; use letters, digits, '.', '_' or '-'")


# One table of how the environments differ. Config may override only what a user legitimately tunes.
_PER_KIND: dict[Kind, dict[str, object]] = {
    Kind.PREVIEW: dict(
        backups=NO_BACKUPS,  # throwaway data, destroyed with the PR
        project=PREVIEW_PROJECT,
        adopt_default=False,
        owns_projects=False,
        protect=False,
        delete_volumes=True,
        image_policy=ImagePolicy.BUILD,
        managers=Managers(dokploy=True, vault=True, github=True, registry=False),
        data=DataServices(bundled=True, own_minio=True, operator_keys=False),
        app_name_pattern="finance-report-{name}",
        floating_tags=(),
        github=GithubSide(supported=True, own_environment=True, readonly_variables=False),
        commit_tag="pr-{pr_number}-{sha7}",
        agent_auth=AgentAuth.DOKPLOY_ENV,
        # PR images live in their own GHCR packages (`<repository>-preview-<component>`): GITHUB_TOKEN's
        # `packages: write` is per package, so PR jobs may write these and only read the release ones.
        image_suffix="-preview",
        # A PR renders its own compose: the compose policy only advises there (trusted code cannot run in
        # a PR job); staging and production refuse a compose that asks for the host (components/compose/policy.py).
        compose_policy="advisory",
        # PR composes run on a Dokploy instance of their own when the workflows give one (DOKPLOY_PREVIEW_URL).
        dokploy_instance="preview",
        sites=(Site.HOSTED, Site.LOCAL),  # a PR environment also runs on the local servers (`make up STACK=pr-7`)
    ),
    Kind.STAGING: dict(
        backups=Backups(enabled=True, schedule="45 2 * * *", keep=7, mirror_minutes=360),
        project=PROJECT,
        adopt_default=False,
        owns_projects=True,
        protect=True,
        delete_volumes=False,
        image_policy=ImagePolicy.BUILD,
        managers=Managers(dokploy=True, vault=True, github=True, registry=False),
        data=DataServices(bundled=False, own_minio=False, operator_keys=True),
        app_name_pattern="fr-{name}-{compose}",
        floating_tags=("staging",),
        github=GithubSide(supported=True, own_environment=False, readonly_variables=False),
        commit_tag="sha-{sha7}",
        agent_auth=AgentAuth.HOST_FILE,
        image_suffix="",
        compose_policy="enforce",
        dokploy_instance="main",
        sites=(Site.HOSTED,),
    ),
    Kind.PRODUCTION: dict(
        backups=Backups(enabled=True, schedule="15 2 * * *", keep=30, mirror_minutes=60),
        project=PROJECT,
        adopt_default=True,
        owns_projects=False,
        protect=True,
        delete_volumes=False,
        image_policy=ImagePolicy.VERIFY_DIGEST,
        managers=Managers(dokploy=True, vault=True, github=True, registry=True),
        data=DataServices(bundled=False, own_minio=False, operator_keys=True),
        app_name_pattern="fr-{name}-{compose}",
        floating_tags=(),
        github=GithubSide(supported=True, own_environment=False, readonly_variables=True),
        commit_tag=None,
        agent_auth=AgentAuth.HOST_FILE,
        image_suffix="",
        compose_policy="enforce",
        dokploy_instance="main",
        sites=(Site.HOSTED,),
    ),
    Kind.LOCAL: dict(
        backups=NO_BACKUPS,  # nothing really runs locally (deployments are simulated); the drill tests the path
        project=PROJECT,
        adopt_default=False,
        owns_projects=True,
        protect=False,  # so `make destroy` works; the structure is production's
        delete_volumes=True,
        image_policy=ImagePolicy.LOCAL_TAG,
        managers=Managers(dokploy=True, vault=True, github=False, registry=False),
        data=DataServices(bundled=False, own_minio=True, operator_keys=False),
        app_name_pattern="fr-{name}-{compose}",
        floating_tags=(),
        github=GithubSide(supported=False, own_environment=False, readonly_variables=False),
        commit_tag=None,
        agent_auth=AgentAuth.HOST_FILE,
        image_suffix="",
        compose_policy="enforce",
        dokploy_instance="main",
        sites=(Site.LOCAL,),
    ),
}


def environment_for(stack: str, config: Mapping[str, Any] | None = None) -> Environment:
    """Derive the whole environment from the stack name and the `financeReport:*` config (keys without prefix)."""
    config = config or {}
    kind, pr_number = parse_stack(stack)
    name = stack
    row = _PER_KIND[kind]

    site = site_for(stack, config)
    base_domain = str(config.get("baseDomain") or _PER_SITE[site].base_domain).lower()
    if not _DOMAIN.match(base_domain):
        raise ConfigError(f"config financeReport:baseDomain={base_domain!r} is not a DNS name; set e.g. zitian.party")
    host = f"report.{base_domain}" if kind is Kind.PRODUCTION else f"report-{name}.{base_domain}"

    data = row["data"]
    assert isinstance(data, DataServices)
    services: tuple[str, ...] = (name,) if data.bundled else ("postgres", "redis", "app")

    tag = str(config.get("imageTag") or _default_tag(kind, pr_number))
    if not tag:
        raise ConfigError(
            f"stack {stack} needs financeReport:imageTag; set it with `pulumi config set financeReport:imageTag <tag>`"
        )
    validate_image_tag(kind, tag, pr_number)

    managers = row["managers"]
    assert isinstance(managers, Managers)
    # GitHub is managed where the kind has a GitHub side and the site can reach it, unless config says otherwise.
    github_default = managers.github and _PER_SITE[site].github
    managers = dataclasses.replace(managers, github=_bool(config, "manageGithub", github_default))

    api_path = _matching(config, "apiPath", "/api", _URL_PATH, "/api")
    if api_path.endswith("/"):
        raise ConfigError(
            f"config financeReport:apiPath={api_path!r} must start with '/' and not end with one, e.g. /api"
        )

    owns = _bool(config, "ownsProjects", bool(row["owns_projects"]))
    if owns and kind is Kind.PREVIEW:
        raise ConfigError(
            f"stack {stack} is a PR stack and can never own the shared projects; unset financeReport:ownsProjects"
        )
    project_ref = _id("projectId", config["projectId"]) if config.get("projectId") else None
    if project_ref and owns:
        raise ConfigError("this stack owns the shared projects; adopt a live one with adopt.projects, not projectId")
    vault_address = _url(config, "vaultAddress", DEFAULT_VAULT_ADDRESS, "vault:address (or VAULT_ADDR)")
    github = row["github"]
    assert isinstance(github, GithubSide)
    floating_tags = row["floating_tags"]
    assert isinstance(floating_tags, tuple)

    return Environment(
        stack=stack,
        kind=kind,
        name=name,
        site=site,
        pr_number=pr_number,
        base_domain=base_domain,
        host=host,
        dokploy_project=str(row["project"]),
        dokploy_environment=name,
        adopt_default_environment=bool(row["adopt_default"]),
        owns_projects=owns,
        services=services,
        protect_data=bool(row["protect"]),
        delete_volumes_on_destroy=bool(row["delete_volumes"]),
        image_policy=ImagePolicy(str(row["image_policy"])),
        image_repository=_matching(
            config, "imageRepository", DEFAULT_IMAGE_REPOSITORY, _IMAGE_REPOSITORY, DEFAULT_IMAGE_REPOSITORY
        )
        + str(row["image_suffix"]),
        image_tag=tag,
        vault_prefix=f"finance_report/{name}",
        vault_mount=_matching(config, "vaultMount", "secret", _VAULT_MOUNT, "secret"),
        managers=managers,
        routing=Routing(
            api_path=api_path,
            strip_api_prefix=_bool(config, "stripApiPrefix", False),
            health_path=_matching(config, "healthPath", f"{api_path}/health", _URL_PATH, f"{api_path}/health"),
        ),
        deploy_timeout_seconds=_int(config, "deployTimeoutSeconds", 15 * 60),
        vault_address=vault_address,
        vault_agent_address=_url(config, "vaultAgentAddress", vault_address),
        data_path=_data_path(config.get("dataPath"), kind),
        project_ref=project_ref,
        adoption=_adoption(config.get("adopt"), kind, services, owns),
        data=data,
        app_compose=name if data.bundled else "app",
        app_name_pattern=str(row["app_name_pattern"]),
        floating_tags=floating_tags,
        github=github,
        commit_tag_pattern=commit_tag_pattern(stack),
        agent_auth=AgentAuth(str(row["agent_auth"])),
        agent_credentials_dir=_agent_dir(config.get("vaultAgentCredentialsDir")),
        compose_policy=ComposePolicy(str(row["compose_policy"])),
        dokploy_instance=str(row["dokploy_instance"]),
        backups=_backups(row["backups"], config),
    )


def _backups(default: object, config: Mapping[str, Any]) -> Backups:
    """The kind's backups, with the schedule and retention a stack may tune (`backupSchedule`, `backupKeep`)."""
    assert isinstance(default, Backups)
    if not default.enabled:
        return default
    schedule = str(config.get("backupSchedule") or default.schedule).strip()
    if not _CRON.match(schedule) or not all(_CRON_FIELD.match(f) for f in schedule.split()):
        raise ConfigError(
            f"config financeReport:backupSchedule={schedule!r} is not a 5-field cron expression; "
            f"set e.g. {default.schedule!r}"
        )
    return dataclasses.replace(
        default,
        schedule=" ".join(schedule.split()),
        keep=_int(config, "backupKeep", default.keep),
        mirror_minutes=_int(config, "backupMirrorMinutes", default.mirror_minutes),
    )


def _agent_dir(raw: object) -> str:
    path = str(raw or DEFAULT_AGENT_CREDENTIALS_DIR).rstrip("/")
    if not re.match(r"^/[A-Za-z0-9._/-]+$", path) or "/.." in path:
        raise ConfigError(
            f"config vaultAgentCredentialsDir={raw!r} is not an absolute host path; "
            f"e.g. {DEFAULT_AGENT_CREDENTIALS_DIR}"
        )
    return path


def site_for(stack: str, config: Mapping[str, Any] | None = None) -> Site:
    """Where a stack's servers are: config `site`, else its kind's default; a site its kind cannot use is refused."""
    kind, _ = parse_stack(stack)
    allowed = _PER_KIND[kind]["sites"]
    assert isinstance(allowed, tuple)
    raw = str((config or {}).get("site") or allowed[0].value).strip().lower()
    if raw not in {s.value for s in Site}:
        raise ConfigError(f"config site={raw!r} is not a site; set it to {' or '.join(s.value for s in Site)}")
    if Site(raw) not in allowed:
        raise ConfigError(
            f"stack {stack} cannot run on the {raw} site; it runs on {' or '.join(s.value for s in allowed)}: "
            "unset financeReport:site"
        )
    return Site(raw)


def data_protected(stack: str) -> bool:
    """Whether a stack's data-bearing objects are protected (for the policy pack, which sees only URNs)."""
    kind, _ = parse_stack(stack)
    return bool(_PER_KIND[kind]["protect"])


def compose_policy_of(stack: str) -> ComposePolicy:
    """How a stack meets a compose that asks for the host (for the policy pack, which sees only URNs)."""
    kind, _ = parse_stack(stack)
    return ComposePolicy(str(_PER_KIND[kind]["compose_policy"]))


def requires_digest_images(stack: str) -> bool:
    """Whether a stack runs released images by digest only."""
    kind, _ = parse_stack(stack)
    return _PER_KIND[kind]["image_policy"] is ImagePolicy.VERIFY_DIGEST


def commit_tag_pattern(stack: str) -> str | None:
    """The tag CI builds for this stack from a commit, with `{sha7}` left to fill in; None if never built so."""
    kind, pr_number = parse_stack(stack)
    pattern = _PER_KIND[kind]["commit_tag"]
    return None if pattern is None else str(pattern).replace("{pr_number}", str(pr_number))


def pr_of_image_tag(tag: str) -> int | None:
    """The PR number of a tag CI builds for a `pr-<N>` stack (`pr-<N>-<7 hex>`); None for any other tag."""
    pattern = re.escape(str(_PER_KIND[Kind.PREVIEW]["commit_tag"]))
    regex = pattern.replace(re.escape("{pr_number}"), "([1-9][0-9]*)").replace(re.escape("{sha7}"), "[0-9a-f]{7}")
    m = re.fullmatch(regex, tag)
    return int(m.group(1)) if m else None


def owner_stacks() -> tuple[str, ...]:
    """The stacks that own the shared Dokploy projects by default (one per server: staging, or local)."""
    return tuple(k.value for k in (Kind.STAGING, Kind.PRODUCTION, Kind.LOCAL) if _PER_KIND[k]["owns_projects"])
