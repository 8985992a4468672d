"""Names and policy text of the Vault authority: what the admin bootstrap creates and the stacks use.

Split of power: only the bootstrap (a privileged admin token) writes policies, token roles, transit keys
and JWT roles. A stack identity can write its own environment's KV paths and mint tokens through its own
token roles, whose `allowed_policies` are the fixed read policies below - so a stack cannot grant itself
or its tokens anything more.

PR stacks (`pr-<N>`, many, short-lived) share one set of objects instead of per-PR ones: per-PR policies
would need an admin for every PR, and letting the PR identity write policies would let PR code grant
itself anything. So:
  - one token role `finance_report-preview` mints tokens bound to an entity alias named after the stack
    (`allowed_entity_aliases = pr-*`), and one templated read policy resolves that alias name into the
    path: a pr-7 token reads `finance_report/pr-7/...` and nothing else;
  - one PR-stacks policy covers every `finance_report/pr-*` path (PR stacks and the reaper act on all of
    them; they all run PR code of the same repository) and nothing of staging, production or local.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from components.environment import Environment

PROJECT = "finance_report"
TRANSIT_MOUNT = "transit"
JWT_MOUNT = "jwt"
REPOSITORY = "wangzitian0/finance_report"
PREVIEW_GROUP = "preview"  # every pr-<N>
GROUPS = ("staging", "production", "local", PREVIEW_GROUP)

PREVIEW_SERVICE_POLICY = f"{PROJECT}-preview-service"
PREVIEW_TOKEN_ROLE = f"{PROJECT}-preview"
PREVIEW_ALIAS_GLOB = "pr-*"
PR_PREVIEW_POLICY = f"{PROJECT}-pr-preview"  # previews staging from a PR: decrypt with staging's key only
READONLY_POLICY = f"{PROJECT}-stack-production-readonly"


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
    return PREVIEW_TOKEN_ROLE if group_of(env_name) == PREVIEW_GROUP else f"{PROJECT}-{env_name}-{service}"


def entity_alias(env_name: str) -> str | None:
    return env_name if group_of(env_name) == PREVIEW_GROUP else None


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


def service_policy_hcl(mount: str, env_name: str, service: str) -> str:
    rest = f"{PROJECT}/{env_name}/{service}"
    return (
        f"# {service} of {env_name}: read its own secret, nothing else\n"
        + _block(_path(mount, "data", rest), ["read"])
        + _block(_path(mount, "metadata", rest), ["read", "list"])
        + _TOKEN_SELF
    )


def preview_service_policy_hcl(mount: str, token_accessor: str) -> str:
    alias = f"{{{{identity.entity.aliases.{token_accessor}.name}}}}"
    rest = f"{PROJECT}/{alias}/*"
    return (
        "# a pr-<N> service token: the entity alias it was minted with (pr-<N>) picks its own path\n"
        + _block(_path(mount, "data", rest), ["read"])
        + _block(_path(mount, "metadata", rest), ["read", "list"])
        + _TOKEN_SELF
    )


def _transit(key: str, ops: tuple[str, ...]) -> str:
    return "".join(_block(f"{TRANSIT_MOUNT}/{op}/{key}", ["update"]) for op in ops)


def stack_policy_hcl(group: str, mount: str) -> str:
    """The policy of a stack's own identity (a JWT login in CI, a bootstrap-minted token locally)."""
    if group == "production-readonly":
        rest = f"{PROJECT}/production/*"
        return (
            "# production preview and drift: read, decrypt the stack; never write or mint\n"
            + _block(_path(mount, "data", rest), ["read"])
            + _block(_path(mount, "metadata", rest), ["read", "list"])
            + _transit(transit_key("production"), ("decrypt",))
        )
    if group == "pr-preview":
        return "# PR preview of staging: open staging's stack secrets, nothing else\n" + _transit(
            transit_key("staging"), ("decrypt",)
        )
    if group not in GROUPS:
        raise ValueError(f"unknown stack group {group}")
    prefix = f"{PROJECT}/pr-*" if group == PREVIEW_GROUP else f"{PROJECT}/{group}/*"
    # Staging and production keep their secrets when a stack is destroyed (the data volumes survive too);
    # local and PR stacks purge theirs, so they may delete metadata.
    purge = group in ("local", PREVIEW_GROUP)
    roles = (
        f"auth/token/create/{PREVIEW_TOKEN_ROLE}"
        if group == PREVIEW_GROUP
        else f"auth/token/create/{PROJECT}-{group}-*"
    )
    hcl = (
        f"# the {group} stack identity: its own KV paths and token roles\n"
        + _block(_path(mount, "data", prefix), ["create", "read", "update"])
        + _block(_path(mount, "metadata", prefix), ["read", "list", *(["delete"] if purge else [])])
        + _block(roles, ["update"])
    )
    if group != "local":
        hcl += _transit(transit_key(group), ("encrypt", "decrypt"))
    return hcl


@dataclass(frozen=True)
class JwtRole:
    """A GitHub Actions identity: this repository, a GitHub environment claim, one stack policy."""

    name: str
    environments: tuple[str, ...]
    policy: str
    glob: bool = False


# The GitHub environments the workflows use for each identity (the workflows must match these).
JWT_ROLES: tuple[JwtRole, ...] = (
    JwtRole(f"{PROJECT}-staging", ("staging",), stack_policy("staging")),
    JwtRole(f"{PROJECT}-production", ("production",), stack_policy("production")),
    JwtRole(f"{PROJECT}-production-readonly", ("production-readonly",), READONLY_POLICY),
    JwtRole(f"{PROJECT}-pr-preview", ("staging-preview",), PR_PREVIEW_POLICY),
    # PR environments pr-<N> and the reaper (environment pr-reaper) run PR stacks.
    JwtRole(f"{PROJECT}-preview", ("pr-*",), stack_policy(PREVIEW_GROUP), glob=True),
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
