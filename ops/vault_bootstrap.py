"""The admin-run Vault bootstrap (`make bootstrap-vault`): the authority the stacks then only use.

Idempotent: each object is read first and written only when it differs, and the run prints what it
created, updated or left unchanged (names only). Needs a privileged token (root or equivalent):

    VAULT_ADDR=https://vault.example VAULT_TOKEN=... python -m ops.vault_bootstrap  # staging, production, PRs
    python -m ops.vault_bootstrap --env local --openbao-dir .local/openbao           # what `make up` runs
    python -m ops.vault_bootstrap --env pr-7                                         # = --env preview

Creates: the KV v2 mount; transit keys for the staging, production and PR stacks' secrets providers; per
environment and service a read policy and a token role that can mint only it (orphan, renewable, bounded
TTL); the stack identities' policies; the JWT auth mount and roles bound to this repository's id and the
job's event, ref and GitHub environment claims. PR stacks share one templated policy (see
components/vault/authority.py); each PR is admitted by a trusted job (`--admit-pr N`: its entity, aliases
and token role) and retired by the reaper (`--retire-pr N`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac.exceptions

from components.environment import AgentAuth, Environment, environment_for
from components.vault import authority as A
from components.vault.client import VaultClient
from components.vault.connection import DEFAULT_JWT_AUDIENCE, VaultConnection
from components.vault.errors import VaultConfigError, VaultError, translated

GITHUB_OIDC = "https://token.actions.githubusercontent.com"
HOUR = 3600


@dataclass(frozen=True)
class JwtConfig:
    audience: str = DEFAULT_JWT_AUDIENCE
    discovery_url: str | None = GITHUB_OIDC
    bound_issuer: str | None = GITHUB_OIDC
    pubkeys: tuple[str, ...] = ()  # PEM public keys; when set they replace discovery (tests, air-gapped)


@dataclass(frozen=True)
class BootstrapOptions:
    groups: tuple[str, ...] = ("staging", "production", A.PREVIEW_GROUP)
    kv_mount: str = "secret"
    repository: str = A.REPOSITORY
    # GitHub's numeric id of the repository (`gh api repos/OWNER/NAME --jq .id`): the JWT roles are bound to
    # it, so a repository deleted and re-created under the same name by someone else is not trusted.
    repository_id: str | None = None
    jwt: JwtConfig | None = field(default_factory=JwtConfig)
    # The AppRole logins of staging's, production's and local's vault-agents: short tokens, renewed by the
    # agent and replaced by a new login (with the host's secret_id) when they reach their max TTL.
    agent_token_ttl: int = 1 * HOUR
    agent_token_max_ttl: int = 24 * HOUR
    # A PR's service tokens (in its compose's Dokploy env): the explicit max TTL bounds a PR's life.
    preview_token_max_ttl: int = 30 * 24 * HOUR
    # CI identities: one workflow run.
    jwt_token_ttl: int = 1 * HOUR
    jwt_token_max_ttl: int = 2 * HOUR


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    action: str  # created | updated | unchanged

    def __str__(self) -> str:
        return f"{self.action:9} {self.kind} {self.name}"


def group_for(env: str) -> str:
    if env == A.PREVIEW_GROUP or env.startswith("pr-"):
        if env != A.PREVIEW_GROUP:
            environment_for(env)  # validates pr-<N>
        return A.PREVIEW_GROUP
    if env not in ("staging", "production", "local"):
        raise VaultConfigError(f"unknown environment {env!r}: use staging, production, local, preview or pr-<N>")
    return env


def _environment(group: str) -> Environment:
    # The environment model is the one source of services; tags only matter to images, so any valid one.
    tag = {"staging": "sha-0000000", "production": "v0.0.0", "local": "local"}[group]
    return environment_for(group, {"imageTag": tag})


def _services(group: str) -> tuple[str, ...]:
    return _environment(group).services


def _same(current: Any, desired: Any) -> bool:
    if isinstance(desired, Mapping):
        return isinstance(current, Mapping) and all(_same(current.get(k), v) for k, v in desired.items())
    if isinstance(desired, list | tuple):
        cur = current if isinstance(current, list | tuple) else [] if current in (None, "") else [current]
        return sorted(map(str, cur)) == sorted(map(str, desired))
    if isinstance(desired, str) and isinstance(current, str):
        return current.strip() == desired.strip()
    return bool(current == desired)


class Bootstrap:
    def __init__(self, client: VaultClient, opts: BootstrapOptions) -> None:
        self.c, self.o = client, opts
        self.changes: list[Change] = []

    # -- generic read-compare-write --------------------------------------------------------------
    def _read(self, path: str) -> dict[str, Any] | None:
        with translated(self.c.address, f"read {path}"):
            try:
                resp = self.c.hv.read(path)
            except hvac.exceptions.InvalidPath:
                return None
        return dict(resp["data"]) if resp and resp.get("data") is not None else None

    def _ensure(self, kind: str, name: str, path: str, desired: Mapping[str, Any], compare: Mapping[str, Any]) -> None:
        current = self._read(path)
        if current is not None and _same(current, compare):
            self.changes.append(Change(kind, name, "unchanged"))
            return
        with translated(self.c.address, f"write {path}"):
            self.c.hv.write_data(path, data=dict(desired))
        self.changes.append(Change(kind, name, "created" if current is None else "updated"))

    def policy(self, name: str, hcl: str) -> None:
        self._ensure("policy", name, f"sys/policies/acl/{name}", {"policy": hcl}, {"policy": hcl})

    def mount(self, path: str, kind: str, options: Mapping[str, str] | None = None, auth: bool = False) -> None:
        table = "sys/auth" if auth else "sys/mounts"
        with translated(self.c.address, f"read {table}"):
            mounts = self.c.hv.read(table)
        mounts = (mounts or {}).get("data", mounts) or {}
        cur = mounts.get(f"{path}/")
        if cur is not None:
            if cur.get("type") != kind or any(
                (cur.get("options") or {}).get(k) != v for k, v in (options or {}).items()
            ):
                raise VaultConfigError(
                    f"Vault at {self.c.address}: {path}/ is a {cur.get('type')} mount with options "
                    f"{cur.get('options')}, not {kind} {dict(options or {})}; fix it by hand"
                )
            self.changes.append(Change("auth mount" if auth else "mount", path, "unchanged"))
            return
        with translated(self.c.address, f"enable {kind} at {path}/"):
            if auth:
                self.c.hv.sys.enable_auth_method(kind, path=path)
            else:
                self.c.hv.sys.enable_secrets_engine(kind, path=path, options=dict(options or {}))
        if kind == "kv":
            self.c.wait_kv_ready(path)
        self.changes.append(Change("auth mount" if auth else "mount", path, "created"))

    def token_role(self, name: str, policy: str, max_ttl: int, aliases: Sequence[str] = ()) -> None:
        desired: dict[str, Any] = {
            "allowed_policies": [policy],
            "disallowed_policies": ["default"],
            "orphan": True,
            "renewable": True,
            "token_type": "service",
            "token_no_default_policy": True,
            "token_explicit_max_ttl": max_ttl,
            "allowed_entity_aliases": list(aliases),
        }
        # Sent as a string: the PR-admission policy pins allowed_policies with allowed_parameters, which
        # compares the request's value as written, and refuses the list form of the same single policy.
        sent = {**desired, "allowed_policies": policy}
        self._ensure("token role", name, f"auth/token/roles/{name}", sent, desired)

    def approle_lockout_off(self) -> None:
        """The role_ids are public, so Vault's user lockout (5 failed logins lock a role_id out) would let
        anyone who reaches Vault lock the agents out; a secret_id is 122 random bits, lockout adds nothing."""
        path = f"sys/auth/{A.APPROLE_MOUNT}/tune"
        current = self._read(path) or {}
        if current.get("user_lockout_disable") is True:
            self.changes.append(Change("auth tune", f"{A.APPROLE_MOUNT} lockout off", "unchanged"))
            return
        with translated(self.c.address, f"write {path}"):
            self.c.hv.write_data(path, data={"user_lockout_config": {"lockout_disable": True}})
        action = "updated" if "user_lockout_disable" in current else "created"
        self.changes.append(Change("auth tune", f"{A.APPROLE_MOUNT} lockout off", action))

    def agent_role(self, name: str, policy: str) -> None:
        """The AppRole a HOST_FILE vault-agent logs in with: its own read policy only, short tokens."""
        desired: dict[str, Any] = {
            "token_policies": [policy],
            "token_no_default_policy": True,
            "token_ttl": self.o.agent_token_ttl,
            "token_max_ttl": self.o.agent_token_max_ttl,
            "token_type": "service",
            "bind_secret_id": True,
            "secret_id_num_uses": 0,  # the agent logs in again after restarts and at its token's max TTL
        }
        base = f"auth/{A.APPROLE_MOUNT}/role/{name}"
        # A fixed, non-secret role_id (set at creation; the role's read does not return it): the compose
        # names it, so rendering one needs no lookup.
        self._ensure("approle", name, base, {**desired, "role_id": name}, desired)
        current = self._read(f"{base}/role-id") or {}
        if current.get("role_id") != name:
            with translated(self.c.address, f"write {base}/role-id"):
                self.c.hv.write_data(f"{base}/role-id", data={"role_id": name})
            self.changes.append(Change("approle role_id", name, "updated"))

    # -- the pieces --------------------------------------------------------------------------------
    def run(self) -> list[Change]:
        o = self.o
        if o.jwt is not None and any(g != "local" for g in o.groups) and not o.repository_id:  # before any change
            raise VaultConfigError(
                "the JWT roles are bound to the repository id; pass --repository-id or set GITHUB_REPOSITORY_ID "
                f"(gh api repos/{o.repository} --jq .id), or --no-jwt"
            )
        self.mount(o.kv_mount, "kv", {"version": "2"})
        transit_groups = [g for g in o.groups if g != "local"]
        if any(g != A.PREVIEW_GROUP for g in o.groups):
            self.mount(A.APPROLE_MOUNT, "approle", auth=True)
            self.approle_lockout_off()
        if transit_groups:
            self.mount(A.TRANSIT_MOUNT, "transit")
            for g in transit_groups:
                self.transit_key(A.transit_key(g))
        for g in o.groups:
            if g == A.PREVIEW_GROUP:
                self.preview_services()
            else:
                for svc in _services(g):
                    self.policy(A.service_policy(g, svc), A.service_policy_hcl(o.kv_mount, g, svc))
                    self.agent_role(A.approle_role(g, svc), A.service_policy(g, svc))
            self.policy(A.stack_policy(g), A.stack_policy_hcl(g, o.kv_mount))
            if g == "production":
                self.policy(A.READONLY_POLICY, A.stack_policy_hcl("production-readonly", o.kv_mount))
            if g == A.PREVIEW_GROUP:
                self.policy(A.REAPER_POLICY, A.stack_policy_hcl("pr-reaper", o.kv_mount))
                self.policy(A.ADMISSION_POLICY, A.stack_policy_hcl("pr-admission", o.kv_mount))
        if o.jwt is not None and transit_groups:
            self.jwt(o.jwt)
        return self.changes

    def transit_key(self, key: str) -> None:
        path = f"{A.TRANSIT_MOUNT}/keys/{key}"
        if self._read(path) is not None:
            self.changes.append(Change("transit key", key, "unchanged"))
            return
        with translated(self.c.address, f"create {path}"):
            self.c.hv.write_data(path, data={"type": "aes256-gcm96"})
        self.changes.append(Change("transit key", key, "created"))

    def preview_services(self) -> None:
        # The token role is per PR (admit_pr); the policy is shared and templated on the entity.
        self.policy(A.PREVIEW_SERVICE_POLICY, A.preview_service_policy_hcl(self.o.kv_mount))

    def jwt(self, cfg: JwtConfig) -> None:
        self.mount(A.JWT_MOUNT, "jwt", auth=True)
        if cfg.pubkeys:
            conf: dict[str, Any] = {
                "jwt_validation_pubkeys": [k.strip() for k in cfg.pubkeys],
                "bound_issuer": cfg.bound_issuer or "",
            }
            compare: dict[str, Any] = dict(conf)
        else:
            conf = {"oidc_discovery_url": cfg.discovery_url, "bound_issuer": cfg.bound_issuer or ""}
            compare = dict(conf)
        self._ensure("jwt config", A.JWT_MOUNT, f"auth/{A.JWT_MOUNT}/config", conf, compare)
        wanted = {A.stack_policy(g) for g in self.o.groups}
        if "production" in self.o.groups:
            wanted.add(A.READONLY_POLICY)
        if A.PREVIEW_GROUP in self.o.groups:
            wanted |= {A.REAPER_POLICY, A.ADMISSION_POLICY}
        for role in A.JWT_ROLES:
            if role.policy not in wanted:
                continue
            desired = {
                "role_type": "jwt",
                "user_claim": role.user_claim,
                "bound_audiences": [cfg.audience],
                "bound_claims": role.bound_claims(str(self.o.repository_id)),
                "bound_claims_type": "glob" if role.glob else "string",
                "token_policies": [role.policy],
                "token_no_default_policy": True,
                "token_ttl": self.o.jwt_token_ttl,
                "token_max_ttl": self.o.jwt_token_max_ttl,
            }
            self._ensure("jwt role", role.name, f"auth/{A.JWT_MOUNT}/role/{role.name}", desired, desired)


def bootstrap(client: VaultClient, opts: BootstrapOptions | None = None) -> list[Change]:
    return Bootstrap(client, opts or BootstrapOptions()).run()


def _accessors(client: VaultClient) -> dict[str, str]:
    with translated(client.address, "read sys/auth"):
        auths = client.hv.read("sys/auth") or {}
    table = auths.get("data") or auths
    return {mount.rstrip("/"): str(info["accessor"]) for mount, info in table.items() if isinstance(info, dict)}


def admit_pr(client: VaultClient, pr_number: int, max_ttl: int = 30 * 24 * HOUR) -> list[Change]:
    """Give PR <N> its identity: the entity (pr_number=<N>) its `pull_request` logins land on, its token role.

    Run by a trusted job (`pull_request_target`, base-branch code, the `pr-admission` identity) or an admin.
    Idempotent. Both aliases point at one entity, so the stack (JWT login, ref refs/pull/<N>/merge) and
    its service tokens (minted with alias pr-<N>) resolve the same templated paths: finance_report/pr-<N>/*.
    """
    if pr_number < 1:
        raise VaultConfigError(f"PR number {pr_number} is not a positive integer")
    changes: list[Change] = []
    name, env = A.pr_entity(pr_number), f"pr-{pr_number}"
    entity_path = f"identity/entity/name/{name}"
    with translated(client.address, f"read {entity_path}"):
        current = client.hv.read(entity_path)
    meta = {"pr_number": str(pr_number)}
    if current is None or (current.get("data") or {}).get("metadata") != meta:
        with translated(client.address, f"write {entity_path}"):
            client.hv.write_data(entity_path, data={"metadata": meta})
        changes.append(Change("pr entity", name, "created" if current is None else "updated"))
        with translated(client.address, f"read {entity_path}"):
            current = client.hv.read(entity_path)
    else:
        changes.append(Change("pr entity", name, "unchanged"))
    assert current is not None
    data = current["data"]
    have = {(a.get("mount_accessor"), a.get("name")) for a in data.get("aliases") or []}
    acc = _accessors(client)
    for mount, alias in ((A.JWT_MOUNT, A.pr_ref(pr_number)), ("token", env)):
        if mount not in acc:  # a server bootstrapped --no-jwt (local): the PR has no CI logins there
            continue
        if (acc[mount], alias) in have:
            changes.append(Change("pr alias", f"{mount}:{alias}", "unchanged"))
            continue
        with translated(client.address, f"alias {alias} on {mount}/ for {name}"):
            client.hv.write_data(
                "identity/entity-alias", data={"name": alias, "canonical_id": data["id"], "mount_accessor": acc[mount]}
            )
        changes.append(Change("pr alias", f"{mount}:{alias}", "created"))
    boot = Bootstrap(client, BootstrapOptions())
    boot.token_role(A.token_role(env, env), A.PREVIEW_SERVICE_POLICY, max_ttl, aliases=[env])
    return changes + boot.changes


def retire_pr(client: VaultClient, pr_number: int) -> list[Change]:
    """Remove what admit_pr created (the reaper, once the PR is closed): its entity, aliases, token role."""
    changes = []
    for kind, path in (
        ("pr entity", f"identity/entity/name/{A.pr_entity(pr_number)}"),
        ("token role", f"auth/token/roles/{A.token_role(f'pr-{pr_number}', '')}"),
    ):
        with translated(client.address, f"delete {path}"):
            client.hv.delete(path)
        changes.append(Change(kind, path.rsplit("/", 1)[1], "deleted"))
    return changes


def issue_agent_credentials(client: VaultClient, group: str, directory: Path, *, rotate: bool = False) -> list[Change]:
    """Write each service's AppRole secret_id to `<directory>/<appName>.secret-id` (0600), for the Dokploy
    host (run there, as root, by the admin). A valid file is kept unless `rotate`; a rotated one's old
    secret_id is destroyed once the new one is written. Prints nothing secret."""
    env = _environment(group)
    if env.agent_auth is not AgentAuth.HOST_FILE:
        raise VaultConfigError(f"{group} vault-agents do not use host files; nothing to issue")
    changes = []
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for svc in env.services:
        role = A.approle_role(group, svc)
        base = f"auth/{A.APPROLE_MOUNT}/role/{role}"
        path = directory / f"{env.compose_app_name(svc)}.secret-id"
        old = path.read_text().strip() if path.exists() else ""
        if old and not rotate and _secret_id_valid(client, base, old):
            changes.append(Change("agent secret_id", str(path), "unchanged"))
            continue
        with translated(client.address, f"issue a secret_id for {role}"):
            fresh = client.hv.write_data(f"{base}/secret-id", data={"metadata": json.dumps({"file": path.name})})
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(fresh["data"]["secret_id"] + "\n")
        os.chmod(path, 0o600)
        if old:
            with (
                translated(client.address, f"destroy the replaced secret_id of {role}"),
                contextlib.suppress(hvac.exceptions.InvalidPath, hvac.exceptions.InvalidRequest),
            ):
                client.hv.write_data(f"{base}/secret-id/destroy", data={"secret_id": old})
        changes.append(Change("agent secret_id", str(path), "updated" if old else "created"))
    return changes


def _secret_id_valid(client: VaultClient, base: str, secret_id: str) -> bool:
    with translated(client.address, f"look up a secret_id of {base}"):
        try:
            resp = client.hv.write_data(f"{base}/secret-id/lookup", data={"secret_id": secret_id})
        except (hvac.exceptions.InvalidPath, hvac.exceptions.InvalidRequest):
            return False
    return bool(resp and resp.get("data"))


def ensure_stack_token(
    client: VaultClient, group: str, path: Path, ttl: int = 32 * 24 * HOUR, pr_number: int | None = None
) -> Change:
    """A token for a stack group's own policy, kept in `path` (0600): reused (and renewed) while valid.

    This is the `local` stack's identity for `make up` (and a local PR stack's, `pr_number` given: the
    PR's stack policy is templated on its admitted entity, so that token is minted onto the entity, through
    an admin-made role CI never has); CI identities log in with JWT instead.
    """
    policy = A.stack_policy(group)
    params: dict[str, Any] = {}
    if pr_number is not None:
        admit_pr(client, pr_number)
        role = f"{A.token_role(f'pr-{pr_number}', '')}-stack"
        Bootstrap(client, BootstrapOptions()).token_role(role, policy, ttl, aliases=[f"pr-{pr_number}"])
        params = {"role_name": role, "entity_alias": f"pr-{pr_number}"}
    if path.exists():
        held = client.with_token(path.read_text().strip())
        info = held.token_valid()
        if info is not None and policy in (info.get("policies") or []):
            with translated(client.address, "renew the stack token (auth/token/renew-self)"):
                held.hv.auth.token.renew_self()
            return Change("stack token", str(path), "unchanged")
    with translated(client.address, f"mint a token with policy {policy}"):
        resp = client.hv.auth.token.create(
            policies=[policy], no_parent=True, renewable=True, ttl=f"{ttl}s", display_name=f"stack-{group}", **params
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(resp["auth"]["client_token"] + "\n")
    os.chmod(path, 0o600)
    return Change("stack token", str(path), "created")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.vault_bootstrap", description=__doc__.splitlines()[0])
    p.add_argument("--env", action="append", help="staging, production, preview, pr-<N>, local (repeatable)")
    p.add_argument("--kv-mount", default="secret")
    p.add_argument("--repository", default=A.REPOSITORY, help="owner/name (for messages)")
    p.add_argument(
        "--repository-id",
        default=os.environ.get("GITHUB_REPOSITORY_ID") or None,
        help="GitHub's numeric repository id the JWT roles are bound to (default: $GITHUB_REPOSITORY_ID)",
    )
    p.add_argument("--admit-pr", type=int, metavar="N", help="only admit PR N (its entity, aliases, token role)")
    p.add_argument("--retire-pr", type=int, metavar="N", help="only remove what --admit-pr N created")
    p.add_argument("--jwt-audience", default=DEFAULT_JWT_AUDIENCE)
    p.add_argument("--jwt-discovery-url", default=GITHUB_OIDC)
    p.add_argument("--jwt-bound-issuer", default=GITHUB_OIDC)
    p.add_argument("--jwt-pubkey-file", action="append", type=Path, help="PEM public key instead of discovery")
    p.add_argument("--no-jwt", action="store_true", help="skip the JWT auth mount and roles")
    p.add_argument("--stack-token-file", type=Path, help="keep a token for the (single) group's stack policy here")
    p.add_argument(
        "--agent-credentials-dir",
        type=Path,
        help="on the Dokploy host: write the (single) group's vault-agent secret_id files here (0600)",
    )
    p.add_argument("--rotate-agent-credentials", action="store_true", help="with --agent-credentials-dir")
    p.add_argument(
        "--openbao-dir",
        type=Path,
        help="a local server from ops.openbao_server: address, root token, "
        "and (for local) the stack token file stack-local.token in that dir",
    )
    a = p.parse_args(argv)
    environ = dict(os.environ)
    try:
        groups = tuple(dict.fromkeys(group_for(e) for e in (a.env or ["staging", "production", "preview"])))
        if a.openbao_dir:
            environ["VAULT_ADDR"] = (a.openbao_dir / "address").read_text().strip()
            environ["VAULT_TOKEN_FILE"] = str(a.openbao_dir / "root-token")
            environ.pop("VAULT_TOKEN", None)
            environ.pop("VAULT_SERVER_TOKEN", None)
            if a.stack_token_file is None and groups == ("local",):
                a.stack_token_file = a.openbao_dir / "stack-local.token"
        jwt = None
        if not a.no_jwt:
            keys = tuple(f.read_text() for f in a.jwt_pubkey_file or [])
            jwt = JwtConfig(a.jwt_audience, None if keys else a.jwt_discovery_url, a.jwt_bound_issuer or None, keys)
        opts = BootstrapOptions(
            groups=groups, kv_mount=a.kv_mount, repository=a.repository, repository_id=a.repository_id, jwt=jwt
        )
        client = VaultClient.connect(VaultConnection(), environ)
        client.health()
        if a.admit_pr is not None or a.retire_pr is not None:
            changes = admit_pr(client, a.admit_pr) if a.admit_pr is not None else retire_pr(client, a.retire_pr)
            for ch in changes:
                print(ch)
            return 0
        changes = bootstrap(client, opts)
        if a.stack_token_file:
            if len(groups) != 1:
                raise VaultConfigError("--stack-token-file needs exactly one --env")
            pr = next((int(e[3:]) for e in a.env or [] if e.startswith("pr-")), None)
            changes.append(ensure_stack_token(client, groups[0], a.stack_token_file, pr_number=pr))
        if a.agent_credentials_dir:
            if len(groups) != 1:
                raise VaultConfigError("--agent-credentials-dir needs exactly one --env")
            changes += issue_agent_credentials(
                client, groups[0], a.agent_credentials_dir, rotate=a.rotate_agent_credentials
            )
    except (VaultError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for ch in changes:
        print(ch)
    counts = {k: sum(c.action == k for c in changes) for k in ("created", "updated", "unchanged")}
    print(
        f"vault bootstrap ({', '.join(groups)}) at {client.address}: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
