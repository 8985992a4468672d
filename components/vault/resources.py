"""Dynamic resources: a KV secret per service, *ensured*, and a token per service, minted through its role.

The providers hold no state: every method builds its hvac client from its inputs (the non-secret
`VaultConnection`) and the credentials in the environment at call time, so nothing unpicklable or
secret is captured in the serialized provider. Values never leave Vault through the state: the KV
resource keeps only key names and fingerprints; the token resource's `token` output is a Pulumi secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from components.provider_errors import OneLineErrors
from components.vault.client import VaultClient, kv_display
from components.vault.connection import VaultConnection
from components.vault.ensure import new_salt, plan
from components.vault.errors import VaultError, VaultPermissionDenied
from components.vault.keys import KeySpec, ServiceSecrets

# ----------------------------------------------------------------------------------------------
# KV secret
# ----------------------------------------------------------------------------------------------
_KV_REPLACE = ("mount", "path")
_KV_UPDATE = ("keys", "purge_on_delete", "connection", "prefix", "service")


def _under(prefix: str, path: str) -> bool:
    return path.startswith(prefix.rstrip("/") + "/")


def _spec(props: Mapping[str, Any]) -> ServiceSecrets:
    keys = tuple(KeySpec.from_inputs(k) for k in props["keys"])
    return ServiceSecrets(str(props["service"]), str(props["path"]), keys)


def _kv_plan(props: Mapping[str, Any], salt: str, old_fps: Mapping[str, str]) -> tuple[Any, VaultClient, int, Any]:
    mount, prefix = str(props["mount"]), str(props["prefix"])
    spec = _spec(props)
    if not _under(prefix, spec.path):
        raise VaultError(f"KV path {kv_display(mount, spec.path)} is outside this stack's prefix {prefix}")
    client = VaultClient.connect(VaultConnection.from_inputs(props.get("connection")))
    current, version = client.kv_read(mount, spec.path)

    def read_other(service: str) -> Mapping[str, str] | None:
        path = f"{prefix}/{service}"
        if not _under(prefix, path) or "/" in service:  # sources come from the same environment only
            raise VaultError(f"source {kv_display(mount, path)} is outside this stack's prefix {prefix}")
        return client.kv_read(mount, path)[0]

    p = plan(spec, current, read_other, old_fps, salt, where=kv_display(mount, spec.path))
    return p, client, version, current


def _kv_ensure(props: Mapping[str, Any], salt: str, old_fps: Mapping[str, str]) -> dict[str, Any]:
    p, client, version, current = _kv_plan(props, salt, old_fps)
    if p.writes:
        client.kv_write(str(props["mount"]), str(props["path"]), {**(current or {}), **p.writes}, cas=version)
    return {
        **{k: v for k, v in props.items() if not k.startswith("__")},
        "salt": salt,
        "fingerprints": p.fingerprints,
        "key_names": [k["name"] for k in props["keys"]],
    }


class KvSecretProvider(OneLineErrors):
    line_errors = (VaultError,)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        path, prefix = news.get("path"), news.get("prefix")
        if isinstance(path, str) and isinstance(prefix, str) and not _under(prefix, path):
            failures.append(CheckFailure("path", f"{path} is outside this stack's prefix {prefix}"))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = _kv_ensure(props, new_salt(), {})
        return CreateResult(f"{props['mount']}/{props['path']}", outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in _KV_REPLACE if olds.get(k) != news.get(k)]
        if replaces:
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        if any(olds.get(k) != news.get(k) for k in _KV_UPDATE):
            return DiffResult(changes=True)
        # Same inputs: is the secret in Vault still complete and current (a key deleted, a source changed)?
        try:
            p = _kv_plan(news, str(olds.get("salt") or ""), olds.get("fingerprints") or {})[0]
        except VaultPermissionDenied:
            # An identity that may not read the KV (a read-only preview of another stack) compares inputs only.
            return DiffResult(changes=False)
        return DiffResult(changes=p.changes(olds.get("fingerprints") or {}))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_kv_ensure(news, str(olds.get("salt") or new_salt()), olds.get("fingerprints") or {}))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = VaultClient.connect(VaultConnection.from_inputs(props.get("connection")))
        if not client.kv_exists(str(props["mount"]), str(props["path"])):
            return ReadResult("", {})  # gone: the next `up` creates it again
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("purge_on_delete"):
            client = VaultClient.connect(VaultConnection.from_inputs(props.get("connection")))
            client.kv_purge(str(props["mount"]), str(props["path"]))


class KvSecret(pulumi.dynamic.Resource, module="vault", name="KvSecret"):
    """The KV v2 secret `<mount>/<path>` holding every key of `spec`, ensured on each `up`."""

    path: pulumi.Output[str]
    key_names: pulumi.Output[list[str]]
    fingerprints: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        *,
        connection: VaultConnection,
        mount: str,
        prefix: str,
        spec: ServiceSecrets,
        purge_on_delete: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "connection": connection.to_inputs(),
            "mount": mount,
            "prefix": prefix,
            "service": spec.service,
            "path": spec.path,
            "keys": [k.to_inputs() for k in spec.keys],
            "purge_on_delete": purge_on_delete,
            "salt": None,
            "fingerprints": None,
            "key_names": None,
        }
        super().__init__(KvSecretProvider(), name, props, opts)


# ----------------------------------------------------------------------------------------------
# Service token
# ----------------------------------------------------------------------------------------------
_TOKEN_REPLACE = ("role", "policies", "rotation", "entity_alias", "display_name")
_TOKEN_UPDATE = ("connection", "env", "service")
_TOKEN_OUTS = ("token", "accessor", "expire_time")


def _token_client(props: Mapping[str, Any]) -> VaultClient:
    return VaultClient.for_token(str(props["token"]), VaultConnection.from_inputs(props.get("connection")))


class ServiceTokenProvider(OneLineErrors):
    line_errors = (VaultError,)

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = VaultClient.connect(VaultConnection.from_inputs(props.get("connection")))
        policies = sorted(props["policies"])
        params: dict[str, Any] = {
            "policies": policies,
            "no_default_policy": True,
            "display_name": props["display_name"],
            "meta": {"env": props["env"], "service": props["service"], "rotation": str(props.get("rotation") or "")},
        }
        if props.get("entity_alias"):
            params["entity_alias"] = props["entity_alias"]
        auth = client.create_token(str(props["role"]), **params)
        token = str(auth["client_token"])
        minted = _token_client({**props, "token": token})
        got = sorted(auth.get("policies") or [])
        if got != policies:
            minted.revoke_self()
            raise VaultError(
                f"Vault at {client.address}: role {props['role']} minted policies {got}, expected {policies}; "
                "re-run the Vault bootstrap"
            )
        info = minted.lookup_self()
        outs = {
            **{k: v for k, v in props.items() if not k.startswith("__")},
            "token": token,
            "accessor": auth["accessor"],
            "expire_time": info.get("expire_time") or "",
        }
        return CreateResult(str(auth["accessor"]), outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in _TOKEN_REPLACE if olds.get(k) != news.get(k)]
        if replaces:
            # Mint the new token first: dependents (the compose env) switch to it, then the old is revoked.
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        if any(olds.get(k) != news.get(k) for k in _TOKEN_UPDATE):
            return DiffResult(changes=True)
        # A revoked or expired token is re-minted by the next `up` (checked with the token itself).
        if not olds.get("token") or _token_client({**news, "token": olds["token"]}).token_valid() is None:
            return DiffResult(changes=True, replaces=["token"], delete_before_replace=False)
        return DiffResult(changes=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **{k: olds.get(k) for k in _TOKEN_OUTS}})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        info = _token_client(props).token_valid() if props.get("token") else None
        if info is None:
            return ReadResult("", {})  # revoked or expired: the next `up` mints a new one
        return ReadResult(id_, {**props, "expire_time": info.get("expire_time") or ""})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("token"):
            _token_client(props).revoke_self()  # already invalid is fine


class ServiceToken(pulumi.dynamic.Resource, module="vault", name="ServiceToken"):
    """An orphan token minted through a token role; `rotation` changing replaces it and revokes the old."""

    token: pulumi.Output[str]
    accessor: pulumi.Output[str]
    expire_time: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        connection: VaultConnection,
        role: str,
        policies: Sequence[str],
        env: str,
        service: str,
        display_name: str,
        rotation: pulumi.Input[str] = "",
        entity_alias: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "connection": connection.to_inputs(),
            "role": role,
            "policies": sorted(policies),
            "env": env,
            "service": service,
            "display_name": display_name,
            "rotation": rotation,
            "entity_alias": entity_alias or "",
            "token": None,
            "accessor": None,
            "expire_time": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["token"]))
        super().__init__(ServiceTokenProvider(), name, props, opts)
