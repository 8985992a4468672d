"""Preflight: before any change, show that Vault answers and this identity may do what the stack will do.

Raises a one-line `VaultError` naming the address and the first path (and key) at fault. The stacks call
it before registering any Dokploy or GitHub resource, also under `up --skip-preview`.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.environment import Environment
from components.vault.authority import TRANSIT_MOUNT, Access, missing_capabilities, required_capabilities
from components.vault.client import VaultClient, kv_display
from components.vault.connection import VaultConnection
from components.vault.errors import MissingProvidedKey, VaultError, VaultPermissionDenied
from components.vault.keys import Endpoints, KeyClass, secret_layout


def preflight(
    env: Environment,
    connection: VaultConnection | None = None,
    access: Access = Access.WRITE,
    *,
    endpoints: Endpoints | None = None,
    purge: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Vault reachable and unsealed; the identity logs in; it holds every capability `access` needs; the
    KV mount exists; every provided key is set. Raises VaultError (one line) on the first failure."""
    client = VaultClient.connect(connection, environ)
    client.health()
    client.lookup_self()  # an invalid or expired token fails here, with its own message
    need = required_capabilities(env, env.vault_mount, access, purge=purge)
    if not need:
        return
    missing = missing_capabilities(need, client.capabilities(need))
    if missing:
        path = next(iter(missing))  # in need order: the secret path before the token role
        raise VaultPermissionDenied(
            f"Vault at {client.address}: this identity lacks {'/'.join(sorted(missing[path]))} on {path}"
            + (f" (and {len(missing) - 1} more path(s))" if len(missing) > 1 else "")
            + "; check the stack's Vault role or run the Vault bootstrap"
        )
    for spec in secret_layout(env, endpoints):
        data, _ = client.kv_read(env.vault_mount, spec.path)  # a missing mount raises VaultNotFound here
        absent = [k for k in spec.of(KeyClass.PROVIDED) if not (data or {}).get(k)]
        if absent:
            raise MissingProvidedKey(
                f"Vault at {client.address}: {kv_display(env.vault_mount, spec.path)}: provided key "
                f"{', '.join(absent)} is missing; set it by hand - the program never invents it"
            )


def preflight_error(*args: object, **kwargs: object) -> str | None:
    """`preflight` as a value: None when fine, else the one-line message."""
    try:
        preflight(*args, **kwargs)  # type: ignore[arg-type]
    except VaultError as exc:
        return str(exc)
    return None


def transit_preflight(
    key: str,
    connection: VaultConnection | None = None,
    *,
    encrypt: bool = False,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Before `pulumi` opens a `hashivault://<key>` stack: the token may decrypt (and, for `stack init`,
    encrypt) with the key. The CLI's own failure is a multi-line API dump; this is one line."""
    client = VaultClient.connect(connection, environ)
    client.health()
    client.lookup_self()
    paths = [f"{TRANSIT_MOUNT}/decrypt/{key}"] + ([f"{TRANSIT_MOUNT}/encrypt/{key}"] if encrypt else [])
    missing = missing_capabilities({p: {"update"} for p in paths}, client.capabilities(paths))
    if missing:
        raise VaultPermissionDenied(
            f"Vault at {client.address}: this identity may not use transit key {key} ({', '.join(missing)}); "
            "it cannot open this stack's secrets"
        )
