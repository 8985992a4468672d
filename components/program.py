"""Glue between the Pulumi runtime and the components, kept out of `__main__.py`.

`run()`: stack name + config -> the environment model -> preflight -> components -> outputs. Everything
that can fail for a reason outside the program (a wrong Dokploy key, an old Dokploy, Vault unreachable or
missing a capability, a release image that does not exist) fails in preflight, as one line, before any
resource is registered - so nothing changes anywhere, also under `up --skip-preview`. Preflight only reads.
"""

from __future__ import annotations

import functools
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components import dokploy
from components.compose import templates
from components.compose.policy import check_environment as check_compose_policy
from components.config_keys import MODEL_KEYS, VAULT_KEYS, unknown_key_message
from components.dokploy.client import ClientSettings
from components.dokploy.errors import DokployError
from components.dokploy.markers import marker_for, split_description
from components.environment import ConfigError, Environment, environment_for, owner_stacks
from components.finance_report import FinanceReport, FinanceReportArgs
from components.github import GithubArgs, GithubConfigError, GithubRepository, Reviewers
from components.images import (
    ImagePolicyError,
    Images,
    ImagesArgs,
    ReleaseRecords,
    Resolver,
    registry_resolver,
    released_resolver,
    resolve_images,
)
from components.oci import RegistryError
from components.plugins import MissingPluginError
from components.vault.authority import Access
from components.vault.client import VaultClient
from components.vault.component import VaultSecrets, VaultSecretsArgs
from components.vault.connection import VaultConnection
from components.vault.errors import VaultError
from components.vault.keys import Endpoints, default_endpoints
from components.vault.preflight import preflight as vault_preflight

DEFAULT_GITHUB_REPOSITORY = "wangzitian0/finance_report"
# The stacks that own the shared projects on their Dokploy server, as the model decides.
OWNER_STACKS = owner_stacks()


class PreflightError(Exception):
    """One line: what is wrong outside the program, and what to do. Raised before anything is registered."""


_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def config_keys() -> set[str]:
    """Every key of this stack's config, as the language host handed it to the program."""
    return set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.get_config_env())


def check_config_keys() -> None:
    """An unknown or misspelt key in our namespaces fails the run (see components/config_keys.py for why)."""
    if message := unknown_key_message(config_keys(), project=pulumi.get_project()):
        raise ConfigError(message)


def config_object(key: str) -> Any:
    """`financeReport:<key>` as parsed JSON/YAML, or a one-line ConfigError naming the key."""
    try:
        return pulumi.Config("financeReport").get_object(key)
    except (ValueError, pulumi.ConfigTypeError):  # not JSON, or not an object
        raise ConfigError(
            f"config financeReport:{key} is not a JSON/YAML object; see README.md for its shape"
        ) from None


def read_model(stack: str | None = None) -> Environment:
    stack = stack or pulumi.get_stack()
    check_config_keys()
    cfg = pulumi.Config("financeReport")
    config: dict[str, Any] = {k: v for k in MODEL_KEYS if (v := cfg.get(k)) is not None}
    if (adopt := config_object("adopt")) is not None:
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
            f"({' or '.join(OWNER_STACKS)}) that this key can see; run `pulumi up` of that stack first, set "
            "financeReport:projectId, or use a key with access to it (a member key sees only its own projects)"
        )
    raise PreflightError(
        f"Dokploy at {client.settings.url} has {len(found)} owned projects named {name!r} ({', '.join(found)}); "
        "set financeReport:projectId to the right one"
    )


def check_project_name(client: dokploy.DokployClient, env: Environment, project_id: str) -> None:
    """financeReport:projectId must name this environment's project: a PR stack never lands in the main one."""
    name = (client.query("project.one", projectId=project_id) or {}).get("name")
    if name != env.dokploy_project:
        raise PreflightError(
            f"Dokploy project {project_id} is {name!r}, not {env.dokploy_project!r}: stack {env.stack} lives only "
            "in its own project; fix financeReport:projectId (or remove it to find the project by its owner)"
        )


def check_shared_projects(client: dokploy.DokployClient, env: Environment) -> None:
    """An owner stack never makes a second pair of shared projects: a project of that name that this stack did
    not create (and is not told to adopt) is refused, naming who made it and how to adopt it instead."""
    project = pulumi.get_project()
    listing = client.query("project.all") or []
    for name, p in ((n, p) for n in env.shared_projects for p in listing if p.get("name") == n):
        pid = str(p.get("projectId"))
        if env.adoption.project(name) == pid:
            continue
        marker = split_description(p.get("description"))[1]
        if marker == marker_for(project, env.stack, "Project", name):
            continue  # ours, from an earlier run
        by = next((f"stack {s}" for s in OWNER_STACKS if marker == marker_for(project, s, "Project", name)), None)
        raise PreflightError(
            f"Dokploy at {client.settings.url} already has project {name!r} ({pid}, made by {by or 'hand'}); one "
            f"stack owns the shared projects per server: adopt it with financeReport:adopt.projects.{name}={pid}, "
            "or point this stack at another Dokploy"
        )


def dokploy_settings() -> ClientSettings:
    """The settings the Dokploy provider will use: stack config first, then DOKPLOY_URL / DOKPLOY_API_KEY."""
    # Raw reads: the key is a secret and never leaves this process.
    keys = ("dokploy:url", "dokploy:apiKey")
    settings = dokploy.resolve_settings({k: pulumi.runtime.get_config(k) for k in keys})
    check_dokploy_settings(settings)
    return settings


def check_dokploy_settings(settings: ClientSettings) -> None:
    """What httpx would otherwise raise as a traceback: a port that is not a number, a key that cannot be a
    header (a pasted line break). The key itself is never named."""
    try:
        parts = urllib.parse.urlsplit(settings.url)
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        raise ConfigError(
            f"Dokploy URL {settings.url!r} has no valid port; set dokploy:url (or DOKPLOY_URL) to e.g. "
            "https://dokploy.example.com or http://127.0.0.1:3000"
        ) from None
    if not parts.hostname:
        raise ConfigError(
            f"Dokploy URL {settings.url!r} names no host; set dokploy:url to e.g. https://dokploy.example.com"
        )
    if any(not 0x21 <= ord(c) <= 0x7E for c in settings.api_key):
        raise ConfigError(
            "the Dokploy API key (dokploy:apiKey or DOKPLOY_API_KEY) contains a space, line break or non-ASCII "
            "character; copy the key again from Dokploy Settings > Profile > API/CLI, without the line break"
        )


def vault_access(dry_run: bool) -> Access:
    """What this run needs of Vault: `up` writes, a preview reads; `financeReport:vaultAccess=none` is for
    a preview by an identity that may only decrypt the stack's secrets."""
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
        if env.owns_projects:
            with dokploy.DokployClient(settings) as client:
                check_shared_projects(client, env)
        else:
            with dokploy.DokployClient(settings) as client:
                if project_id is None:
                    project_id = find_shared_project(client, env)
                else:
                    check_project_name(client, env, project_id)
        vault_preflight(env, connection, vault_access(dry_run), endpoints=vault_endpoints(env))
        resolver: Resolver | None = None
        if env.managers.registry:
            # Digest-pinned images must also be the ones staging recorded for this version (a tag can move).
            records = ReleaseRecords(VaultClient.connect(connection), env.vault_mount)
            resolver = functools.cache(released_resolver(registry_resolver(), records))
            resolve_images(env, resolver)  # both images, before anything is registered (the Images component reuses it)
    except (DokployError, VaultError, RegistryError, ImagePolicyError) as exc:  # each one line already; keep it one
        raise PreflightError(" ".join(str(exc).split())) from None
    return Checked(project_id=project_id, resolver=resolver)


def github_args(env: Environment) -> GithubArgs:
    """The repository and production's reviewers: the same for every stack, so config, not the model."""
    cfg = pulumi.Config("financeReport")
    full = cfg.get("githubRepository") or DEFAULT_GITHUB_REPOSITORY
    if not _GITHUB_REPOSITORY.match(full):
        raise ConfigError(
            f"config financeReport:githubRepository={full!r} is not owner/name; set e.g. {DEFAULT_GITHUB_REPOSITORY}"
        )
    owner, _, repository = full.partition("/")
    reviewers = config_object("productionReviewers") or {}
    unknown = set(reviewers) - {"users", "teams"} if isinstance(reviewers, dict) else {"?"}
    lists = all(isinstance(reviewers.get(k) or [], list) for k in ("users", "teams")) if not unknown else False
    if unknown or not lists:
        raise ConfigError(
            'config financeReport:productionReviewers must be {"users": [logins or ids], "teams": [slugs or ids]}'
        )
    return GithubArgs(
        environment=env,
        owner=owner,
        repository=repository,
        reviewers=Reviewers(users=tuple(reviewers.get("users") or ()), teams=tuple(reviewers.get("teams") or ())),
        release_app_id=cfg.get_int("releaseAppId"),
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
        check_compose_policy(env)  # a compose asking for the host: refused here, where the model enforces it
        if env.managers.github:
            github_args(env)  # its config is checked with the rest, before any server is asked
        connection = vault_connection()
        checked = preflight(env, connection, dry_run=pulumi.runtime.is_dry_run())
    except (ConfigError, PreflightError, VaultError) as exc:
        # One line, before anything is registered: nothing changes anywhere.
        raise pulumi.RunError(str(exc)) from None
    try:
        report = build(env, checked, connection)
    except GithubConfigError as exc:
        where = "financeReport:githubRepository, financeReport:productionReviewers"
        raise pulumi.RunError(f"{exc} (stack config: {where})") from None
    except (MissingPluginError, ImagePolicyError, RegistryError) as exc:
        raise pulumi.RunError(str(exc)) from None
    pulumi.export("environment", env.name)
    export(report.outputs())
    if env.pr_number is not None:  # pr-<N> stacks only
        pulumi.export("pr_number", env.pr_number)
