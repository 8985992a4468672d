"""Names and policy text of the Vault authority: what the admin bootstrap creates and the stacks use.

Split of power: only the bootstrap (a privileged admin token) writes policies, token roles, transit keys
and JWT roles. A stack identity can write its own environment's KV paths and mint tokens through its own
token roles, whose `allowed_policies` are the fixed read policies below - so a stack cannot grant itself
or its tokens anything more.

Who a GitHub Actions job is comes from its OIDC token, and a PR's workflow file is the PR's own: it can
name any `environment`. So every JWT role is bound to the repository *id* (a renamed or re-created
repository of the same name is another one), the `event_name` and the `ref` as well as the environment,
and no token gets the `default` policy. A `pull_request` job's `ref` is `refs/pull/<N>/merge`, set by
GitHub, not by the PR; that is what ties a PR job to its own PR's paths:

  - PR stacks (`pr-<N>`, many, short-lived) share one JWT role and one set of policies, templated on
    `identity.entity.metadata.pr_number`. Vault forbids `/` in a template substitution, so the ref itself
    cannot be the template; instead a trusted job (`admit_pr` in ops/vault_bootstrap.py, base-branch
    code) creates per PR an entity `finance_report-pr-<N>` with `pr_number=<N>`, an alias on the JWT mount
    named `refs/pull/<N>/merge` and one on the token mount named `pr-<N>`, and a token role
    `finance_report-pr-<N>` that can only mint the PR service policy with that alias. A `pull_request`
    login whose ref is `refs/pull/7/merge` lands on pr-7's entity whatever environment the workflow
    names; a PR that was never admitted resolves no template and reaches nothing.
  - every templated path starts with `finance_report/pr-`, so even a wrong admission reaches PR paths
    only, never staging's or production's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from components.environment import AgentAuth, Environment

PROJECT = "finance_report"
TRANSIT_MOUNT = "transit"
JWT_MOUNT = "jwt"
APPROLE_MOUNT = "approle"  # the vault-agents of staging, production and local (AgentAuth.HOST_FILE)
REPOSITORY = "wangzitian0/finance_report"
PREVIEW_GROUP = "preview"  # every pr-<N>
GROUPS = ("staging", "production", "local", PREVIEW_GROUP)

PREVIEW_SERVICE_POLICY = f"{PROJECT}-preview-service"
READONLY_POLICY = f"{PROJECT}-stack-production-readonly"
REAPER_POLICY = f"{PROJECT}-pr-reaper"  # every PR path and PR admission object: purge what closed PRs left
ADMISSION_POLICY = f"{PROJECT}-pr-admission"  # creates a PR's entity, aliases and token role
PR_NUMBER = "{{identity.entity.metadata.pr_number}}"
# Image digests staging verified and released: written by staging's identity only, read by production.
RELEASE_PREFIX = f"{PROJECT}/release"


def group_of(env_name: str) -> str:
    return PREVIEW_GROUP if env_name.startswith("pr-") else env_name


def transit_key(group: str) -> str:
    """The `hashivault://<key>` secrets provider key of a stack group (local uses a passphrase)."""
    if group not in ("staging", "production", PREVIEW_GROUP):
        raise ValueError(f"no transit key for {group}")
    return f"finance-report-{group}"


def stack_policy(group: str) -> str:
    return f"{PROJECT}-stack-{group}"


def service_policy(env_name: str, service: str) -> str:
    return PREVIEW_SERVICE_POLICY if group_of(env_name) == PREVIEW_GROUP else f"{PROJECT}-{env_name}-{service}"


def token_role(env_name: str, service: str) -> str:
    """A PR's services share its own admitted role `finance_report-pr-<N>`; elsewhere one role per service."""
    return f"{PROJECT}-{env_name}" if group_of(env_name) == PREVIEW_GROUP else f"{PROJECT}-{env_name}-{service}"


def approle_role(env_name: str, service: str) -> str:
    """A HOST_FILE service's AppRole; its role_id is the same fixed name (not a secret: the secret_id is)."""
    return f"{PROJECT}-{env_name}-{service}"


def pr_entity(pr_number: int) -> str:
    return f"{PROJECT}-pr-{pr_number}"


def pr_ref(pr_number: int) -> str:
    """The `ref` claim GitHub puts into a `pull_request` job's OIDC token (the JWT alias of its entity)."""
    return f"refs/pull/{pr_number}/merge"


def entity_alias(env_name: str) -> str | None:
    return env_name if group_of(env_name) == PREVIEW_GROUP else None


def release_path(version: str) -> str:
    """The KV path (under the mount) where staging records the digests it released as `version`."""
    return f"{RELEASE_PREFIX}/{version}"


def _path(mount: str, kind: str, rest: str) -> str:
    return f"{mount}/{kind}/{rest}"


def _block(path: str, caps: list[str]) -> str:
    return f'path "{path}" {{\n  capabilities = {json.dumps(caps)}\n}}\n'


# What a vault-agent needs besides reading its secret: look itself up, and renew (its token has no
# default policy, and the seed's tokens silently expired for want of renew-self); revoke-self lets the
# stack revoke a token it rotates away using that token alone.
_TOKEN_SELF = (
    _block("auth/token/lookup-self", ["read"])
    + _block("auth/token/renew-self", ["update"])
    + _block("auth/token/revoke-self", ["update"])
)


# What the `default` policy gave and a CI identity still needs (preflight checks its own capabilities).
_IDENTITY_SELF = _block("auth/token/lookup-self", ["read"]) + _block("sys/capabilities-self", ["update"])


def service_policy_hcl(mount: str, env_name: str, service: str) -> str:
    rest = f"{PROJECT}/{env_name}/{service}"
    return (
        f"# {service} of {env_name}: read its own secret, nothing else\n"
        + _block(_path(mount, "data", rest), ["read"])
        + _block(_path(mount, "metadata", rest), ["read", "list"])
        + _TOKEN_SELF
    )


def preview_service_policy_hcl(mount: str) -> str:
    rest = f"{PROJECT}/pr-{PR_NUMBER}/*"
    return (
        "# a pr-<N> service token: its admitted entity's pr_number picks its own path\n"
        + _block(_path(mount, "data", rest), ["read"])
        + _block(_path(mount, "metadata", rest), ["read", "list"])
        + _TOKEN_SELF
    )


_ALIAS_KEYS = ("name", "canonical_id", "mount_accessor")
_ROLE_KEYS = (
    "disallowed_policies",
    "orphan",
    "renewable",
    "token_type",
    "token_no_default_policy",
    "token_explicit_max_ttl",
    "allowed_entity_aliases",
)


def _limited(path: str, caps: list[str], params: Mapping[str, list[str]]) -> str:
    allowed = "".join(f"    {json.dumps(k)} = {json.dumps(v)}\n" for k, v in params.items())
    return f'path "{path}" {{\n  capabilities = {json.dumps(caps)}\n  allowed_parameters = {{\n{allowed}  }}\n}}\n'


def _transit(key: str, ops: tuple[str, ...]) -> str:
    return "".join(_block(f"{TRANSIT_MOUNT}/{op}/{key}", ["update"]) for op in ops)


def stack_policy_hcl(group: str, mount: str) -> str:
    """The policy of a stack's own identity (a JWT login in CI, a bootstrap-minted token locally)."""
    return _stack_policy_body(group, mount) + _IDENTITY_SELF


def _stack_policy_body(group: str, mount: str) -> str:
    release = RELEASE_PREFIX + "/*"
    if group == "production-readonly":
        rest = f"{PROJECT}/production/*"
        return (
            "# production preview and drift: read, decrypt the stack; never write or mint\n"
            + _block(_path(mount, "data", rest), ["read"])
            + _block(_path(mount, "metadata", rest), ["read", "list"])
            + _block(_path(mount, "data", release), ["read"])
            + _transit(transit_key("production"), ("decrypt",))
        )
    if group == "pr-reaper":
        rest = f"{PROJECT}/pr-*"
        return (
            "# the reaper (main's code, schedule/dispatch): purge what closed PRs left, nothing else\n"
            + _block(_path(mount, "data", rest), ["read"])
            + _block(_path(mount, "metadata", rest), ["read", "list", "delete"])
            + _block(_path(mount, "metadata", f"{PROJECT}/"), ["list"])
            + _block(f"identity/entity/name/{PROJECT}-pr-*", ["read", "delete"])
            + _block(f"auth/token/roles/{PROJECT}-pr-*", ["read", "delete"])
            + _transit(transit_key(PREVIEW_GROUP), ("encrypt", "decrypt"))
        )
    if group == "pr-admission":
        # Parameters are pinned: an entity's own `policies` would be added to every token of its logins.
        return (
            "# pull_request_target (main's code): give PR <N> its entity, aliases and token role\n"
            + _limited(f"identity/entity/name/{PROJECT}-pr-*", ["create", "read", "update"], {"metadata": []})
            + _limited("identity/entity-alias", ["create", "update"], {key: [] for key in _ALIAS_KEYS})
            + _block("sys/auth", ["read"])
            + _limited(
                f"auth/token/roles/{PROJECT}-pr-*",
                ["create", "read", "update"],
                {**{key: [] for key in _ROLE_KEYS}, "allowed_policies": [PREVIEW_SERVICE_POLICY]},
            )
        )
    if group not in GROUPS:
        raise ValueError(f"unknown stack group {group}")
    # Staging and production keep their secrets when a stack is destroyed (the data volumes survive too);
    # local and PR stacks purge theirs, so they may delete metadata.
    purge = group in ("local", PREVIEW_GROUP)
    prefix = f"{PROJECT}/pr-{PR_NUMBER}/*" if group == PREVIEW_GROUP else f"{PROJECT}/{group}/*"
    hcl = (
        f"# the {group} stack identity: its own KV paths (and a PR's: its token role)\n"
        + _block(_path(mount, "data", prefix), ["create", "read", "update"])
        + _block(_path(mount, "metadata", prefix), ["read", "list", *(["delete"] if purge else [])])
    )
    if group == PREVIEW_GROUP:  # staging, production and local mint nothing: their agents use AppRole
        hcl += _block(f"auth/token/create/{PROJECT}-pr-{PR_NUMBER}", ["update"])
    if group == "staging":  # the release record: what staging verified and tagged vX.Y.Z
        hcl += _block(_path(mount, "data", release), ["create", "read"]) + _block(
            _path(mount, "metadata", release), ["read", "list"]
        )
    if group == "production":
        hcl += _block(_path(mount, "data", release), ["read"])
    if group != "local":
        hcl += _transit(transit_key(group), ("encrypt", "decrypt"))
    return hcl


@dataclass(frozen=True)
class JwtRole:
    """A GitHub Actions identity: this repository (by id), the job's event, ref and environment claims."""

    name: str
    environments: tuple[str, ...]
    policy: str
    events: tuple[str, ...]
    refs: tuple[str, ...]
    ref_type: str | None = None
    user_claim: str = "sub"
    glob: bool = True  # the claims are glob patterns (a pattern without `*` matches itself only)

    def bound_claims(self, repository_id: str) -> dict[str, list[str] | str]:
        claims: dict[str, list[str] | str] = {
            "repository_id": repository_id,
            "environment": list(self.environments),
            "event_name": list(self.events),
            "ref": list(self.refs),
        }
        if self.ref_type:
            claims["ref_type"] = self.ref_type
        return claims


_MAIN = "refs/heads/main"
# The GitHub environments, events and refs the workflows use for each identity (the workflows must match).
# No role admits `pull_request` except the PR stacks' one, and that one reaches only the PR's own paths.
JWT_ROLES: tuple[JwtRole, ...] = (
    JwtRole(
        f"{PROJECT}-staging",
        ("staging",),
        stack_policy("staging"),
        ("push", "workflow_dispatch", "schedule"),
        (_MAIN,),
        "branch",
    ),
    JwtRole(
        f"{PROJECT}-production",
        ("production",),
        stack_policy("production"),
        ("push", "workflow_dispatch"),
        ("refs/tags/v*",),
        "tag",
    ),
    JwtRole(
        f"{PROJECT}-production-readonly",
        ("production-readonly",),
        READONLY_POLICY,
        ("push", "workflow_dispatch", "schedule"),
        (_MAIN, "refs/tags/v*"),
    ),
    # PR environments pr-<N>: the login's entity (by its ref) decides which PR's paths it reaches.
    JwtRole(
        f"{PROJECT}-preview",
        ("pr-*",),
        stack_policy(PREVIEW_GROUP),
        ("pull_request",),
        ("refs/pull/*/merge",),
        user_claim="ref",
    ),
    JwtRole(f"{PROJECT}-pr-reaper", ("pr-reaper",), REAPER_POLICY, ("schedule", "workflow_dispatch"), (_MAIN,)),
    JwtRole(f"{PROJECT}-pr-admission", ("pr-admission",), ADMISSION_POLICY, ("pull_request_target",), (_MAIN,)),
)


class Access(StrEnum):
    """What a run does with Vault, for preflight: up/destroy write, refresh/drift read, preview of
    staging from a PR touches nothing (it only decrypts the stack file, before the program runs)."""

    WRITE = "write"
    READ = "read"
    NONE = "none"


def required_capabilities(
    env: Environment, mount: str, access: Access, *, purge: bool | None = None
) -> dict[str, set[str]]:
    """Path -> capabilities the stack's identity needs (checked with sys/capabilities-self)."""
    if access is Access.NONE:
        return {}
    purge = env.delete_volumes_on_destroy if purge is None else purge
    need: dict[str, set[str]] = {}
    for service in env.services:
        rest = f"{env.vault_prefix}/{service}"
        if access is Access.READ:
            need[_path(mount, "data", rest)] = {"read"}
            continue
        need[_path(mount, "data", rest)] = {"create", "read", "update"}
        need[_path(mount, "metadata", rest)] = {"read", "delete"} if purge else {"read"}
        if env.agent_auth is AgentAuth.DOKPLOY_ENV:
            need[f"auth/token/create/{token_role(env.name, service)}"] = {"update"}
    return need


def missing_capabilities(need: Mapping[str, set[str]], have: Mapping[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path, caps in need.items():
        got = have.get(path, set())
        if "root" in got:
            continue
        if "deny" in got:
            got = set()
        lack = caps - got
        if lack:
            out[path] = lack
    return out


def is_isolated(env: Environment, path: str) -> bool:
    """Whether a KV path (under the mount) belongs to this environment's prefix - used by the isolation tests
    and as a guard in the providers: pr-<N> and local never touch another environment's path."""
    return path.startswith(env.vault_prefix + "/")
