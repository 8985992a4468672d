"""Glue between the Pulumi runtime and the components, kept out of `__main__.py`.

`run()`: stack name + config -> the environment model -> preflight -> components -> outputs. Everything
that can fail for a reason outside the program (a wrong Dokploy key, an old Dokploy, Vault unreachable or
missing a capability, a release image that does not exist) fails in preflight, as one line, before any
resource is registered - so nothing changes anywhere, also under `up --skip-preview`. Preflight only reads.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components import dokploy
from components.compose import templates
from components.dokploy.client import ClientSettings
from components.dokploy.errors import DokployError
from components.dokploy.markers import marker_for, split_description
from components.environment import ConfigError, Environment, environment_for, owner_stacks
from components.finance_report import FinanceReport, FinanceReportArgs
from components.github import GithubArgs, GithubConfigError, GithubRepository, Reviewers
from components.images import ImagePolicyError, Images, ImagesArgs, Resolver, registry_resolver
from components.oci import RegistryError
from components.plugins import MissingPluginError
from components.vault.authority import Access
from components.vault.component import VaultSecrets, VaultSecretsArgs
from components.vault.connection import VaultConnection
from components.vault.errors import VaultError
from components.vault.keys import Endpoints, default_endpoints
from components.vault.preflight import preflight as vault_preflight

MODEL_KEYS = (
    "baseDomain",
    "imageTag",
    "imageRepository",
    "vaultMount",
    "ownsProjects",
    "manageGithub",
    "apiPath",
    "stripApiPrefix",
    "healthPath",
    "deployTimeoutSeconds",
    "vaultAgentAddress",
    "projectId",
    "dataPath",
)
DEFAULT_GITHUB_REPOSITORY = "wangzitian0/finance_report"
VAULT_KEYS = ("address", "authMethod", "authMount", "role", "jwtAudience", "skipVerify", "caCert")
# The stacks that own the shared projects on their Dokploy server, as the model decides.
OWNER_STACKS = owner_stacks()


class PreflightError(Exception):
    """One line: what is wrong outside the program, and what to do. Raised before anything is registered."""


def read_model(stack: str | None = None) -> Environment:
    stack = stack or pulumi.get_stack()
    cfg = pulumi.Config("financeReport")
    config: dict[str, Any] = {k: v for k in MODEL_KEYS if (v := cfg.get(k)) is not None}
    if (adopt := cfg.get_object("adopt")) is not None:
        config["adopt"] = adopt
    # Where Pulumi's Vault provider will look: config, else the environment at call time.
    if address := pulumi.Config("vault").get("address") or os.environ.get("VAULT_ADDR"):
        config["vaultAddress"] = address
    return environment_for(stack, config)


def vault_connection() -> VaultConnection:
    cfg = pulumi.Config("vault")
    return VaultConnection.from_config({k: v for k in VAULT_KEYS if (v := cfg.get(k)) is not None})


def vault_endpoints(env: Environment) -> Endpoints:
    """The host names the compose files use, for the connection URLs the Vault component derives."""
    default = default_endpoints(env)
    s3 = templates.s3_endpoint(env) or default.s3_endpoint
    return Endpoints(
        postgres_host=env.service_host("postgres"),
        redis_host=env.service_host("redis"),
        s3_endpoint=s3,
        minio_user=default.minio_user,
    )


def _owner_markers(project_name: str) -> set[str]:
    return {marker_for(pulumi.get_project(), s, "Project", project_name) for s in OWNER_STACKS}


def find_shared_project(client: dokploy.DokployClient, env: Environment) -> str:
    """The id of the shared project (created by its owner stack, which marked it) this stack lives in."""
    name, markers = env.dokploy_project, _owner_markers(env.dokploy_project)
    found = [
        str(p["projectId"])
        for p in client.query("project.all") or []
        if p.get("name") == name and split_description(p.get("description"))[1] in markers
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise PreflightError(
            f"Dokploy at {client.settings.url} has no project {name!r} created by an owner stack "
            f"({' or '.join(OWNER_STACKS)}); run `pulumi up` of that stack first, or set financeReport:projectId"
        )
    raise PreflightError(
        f"Dokploy at {client.settings.url} has {len(found)} owned projects named {name!r} ({', '.join(found)}); "
        "set financeReport:projectId to the right one"
    )


def dokploy_settings() -> ClientSettings:
    """The settings the Dokploy provider will use: stack config first, then DOKPLOY_URL / DOKPLOY_API_KEY."""
    # Raw reads: the key is a secret and never leaves this process.
    keys = ("dokploy:url", "dokploy:apiKey")
    return dokploy.resolve_settings({k: pulumi.runtime.get_config(k) for k in keys})


def vault_access(dry_run: bool) -> Access:
    """What this run needs of Vault: `up` writes, a preview reads; `financeReport:vaultAccess=none` is for
    a preview by an identity that may only decrypt the stack's secrets (a PR previewing staging)."""
    raw = pulumi.Config("financeReport").get("vaultAccess")
    if raw:
        try:
            return Access(raw)
        except ValueError:
            raise ConfigError(f"config financeReport:vaultAccess={raw!r} is not one of write, read, none") from None
    return Access.READ if dry_run else Access.WRITE


@dataclass(frozen=True)
class Checked:
    """What preflight learnt that the components need."""

    project_id: str | None
    resolver: Resolver | None


def preflight(env: Environment, connection: VaultConnection, *, dry_run: bool) -> Checked:
    """Dokploy (key, version, the shared project), Vault (reachable, capabilities), registry (production)."""
    try:
        settings = dokploy_settings()
        problem = dokploy.preflight(settings.url, settings.api_key)
        if problem:
            raise PreflightError(problem)
        project_id = env.project_ref
        if not env.owns_projects and project_id is None:
            with dokploy.DokployClient(settings) as client:
                project_id = find_shared_project(client, env)
        vault_preflight(env, connection, vault_access(dry_run), endpoints=vault_endpoints(env))
        resolver: Resolver | None = None
        if env.managers.registry:
            resolver = functools.cache(registry_resolver())
            for component in ("backend", "frontend"):
                resolver(f"{env.image_repository}-{component}", env.image_tag)
    except (DokployError, VaultError, RegistryError) as exc:  # each is one line already; keep it one
        raise PreflightError(" ".join(str(exc).split())) from None
    return Checked(project_id=project_id, resolver=resolver)


def github_args(env: Environment) -> GithubArgs:
    """The repository and production's reviewers: the same for every stack, so config, not the model."""
    cfg = pulumi.Config("financeReport")
    owner, _, repository = (cfg.get("githubRepository") or DEFAULT_GITHUB_REPOSITORY).partition("/")
    reviewers = cfg.get_object("productionReviewers") or {}
    return GithubArgs(
        environment=env,
        owner=owner,
        repository=repository,
        reviewers=Reviewers(users=tuple(reviewers.get("users") or ()), teams=tuple(reviewers.get("teams") or ())),
    )


def build(
    env: Environment, checked: Checked, connection: VaultConnection, opts: pulumi.ResourceOptions | None = None
) -> FinanceReport:
    """The lower components first, then FinanceReport wired from their outputs. `opts` goes to each."""
    images = Images("images", ImagesArgs(environment=env, resolver=checked.resolver), opts)
    if env.managers.github:  # first: it validates its settings and plugin before registering anything
        GithubRepository("github", github_args(env), opts)
    vault_args = VaultSecretsArgs(env=env, connection=connection, endpoints=vault_endpoints(env))
    vault = VaultSecrets("vault", vault_args, opts)
    return FinanceReport(
        "finance-report",
        FinanceReportArgs(env=env, images=images, vault=vault, project_id=checked.project_id),
        opts,
    )


def export(outputs: Mapping[str, object]) -> None:
    for key, value in outputs.items():
        pulumi.export(key, value)


def run() -> None:
    try:
        env = read_model()
        connection = vault_connection()
        checked = preflight(env, connection, dry_run=pulumi.runtime.is_dry_run())
    except (ConfigError, PreflightError, VaultError) as exc:
        # One line, before anything is registered: nothing changes anywhere.
        raise pulumi.RunError(str(exc)) from None
    try:
        report = build(env, checked, connection)
    except (GithubConfigError, MissingPluginError, ImagePolicyError, RegistryError) as exc:
        raise pulumi.RunError(str(exc)) from None
    pulumi.export("environment", env.name)
    export(report.outputs())
    if env.pr_number is not None:  # pr-<N> stacks only
        pulumi.export("pr_number", env.pr_number)
