"""Preflight: one line naming address/path/key, before any change, for each way Vault can be wrong."""

from __future__ import annotations

import pytest

from components.environment import environment_for
from components.vault import (
    Access,
    MissingProvidedKey,
    VaultAuthError,
    VaultConnection,
    VaultNotFound,
    VaultPermissionDenied,
    VaultUnreachable,
    preflight,
    preflight_error,
    transit_preflight,
)
from components.vault.keys import BACKUP_KEYS
from ops.openbao_server import free_port
from tests.vault.conftest import Authority

LOCAL = environment_for("local")
STAGING = environment_for("staging", {"imageTag": "sha-0000000"})
PRODUCTION = environment_for("production", {"imageTag": "v1.0.0"})


def conn(authority: Authority) -> VaultConnection:
    return VaultConnection(address=authority.address)


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg.strip() == msg
    return msg


def test_passes_for_the_stack_identities(authority: Authority) -> None:
    preflight(LOCAL, conn(authority), environ={"VAULT_TOKEN": authority.local_token})
    preflight(environment_for("pr-7"), conn(authority), environ={"VAULT_TOKEN": authority.identity("pr-7")})
    ro = {"VAULT_TOKEN": authority.identity("production-readonly")}
    authority.admin().secrets.kv.v2.create_or_update_secret(
        "finance_report/production/app",
        {"S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "OPENROUTER_API_KEY": "c"},
        mount_point="secret",
    )
    authority.admin().secrets.kv.v2.create_or_update_secret(  # the backup destination (docs/data.md)
        "finance_report/production/postgres", dict.fromkeys(BACKUP_KEYS, "d"), mount_point="secret"
    )
    preflight(PRODUCTION, conn(authority), Access.READ, environ=ro)


def test_unreachable(authority: Authority) -> None:
    address = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(VaultUnreachable) as info:
        preflight(LOCAL, VaultConnection(address=address, timeout=3), environ={"VAULT_TOKEN": "x"})
    assert address in one_line(info)


def test_invalid_token(authority: Authority) -> None:
    with pytest.raises(VaultAuthError) as info:
        preflight(LOCAL, conn(authority), environ={"VAULT_TOKEN": "s.bogus"})
    assert authority.address in one_line(info)


@pytest.mark.parametrize(
    ("env", "who", "access", "path"),
    [
        (STAGING, "pr-7", Access.WRITE, "secret/data/finance_report/staging/postgres"),
        (
            PRODUCTION,
            "production-readonly",
            Access.WRITE,
            "create/update on secret/data/finance_report/production/postgres",
        ),
        (PRODUCTION, "staging", Access.READ, "secret/data/finance_report/production/postgres"),
        (LOCAL, "staging", Access.WRITE, "secret/data/finance_report/local/postgres"),
    ],
)
def test_missing_capability_names_the_path(
    authority: Authority, env: object, who: str, access: Access, path: str
) -> None:
    with pytest.raises(VaultPermissionDenied) as info:
        preflight(env, conn(authority), access, environ={"VAULT_TOKEN": authority.identity(who)})  # type: ignore[arg-type]
    msg = one_line(info)
    assert path in msg and authority.address in msg


def test_missing_provided_key_names_path_and_key(authority: Authority) -> None:
    msg = preflight_error(STAGING, conn(authority), environ={"VAULT_TOKEN": authority.identity("staging")})
    # The backup destination first (the postgres secret, docs/data.md), then the app's own keys.
    assert msg is not None and "secret/finance_report/staging/postgres" in msg and "BACKUP_S3_SECRET_KEY" in msg
    authority.admin().secrets.kv.v2.create_or_update_secret(
        "finance_report/staging/postgres", dict.fromkeys(BACKUP_KEYS, "d"), mount_point="secret"
    )
    msg = preflight_error(STAGING, conn(authority), environ={"VAULT_TOKEN": authority.identity("staging")})
    assert msg is not None and "secret/finance_report/staging/app" in msg and "OPENROUTER_API_KEY" in msg
    with pytest.raises(MissingProvidedKey):
        preflight(STAGING, conn(authority), environ={"VAULT_TOKEN": authority.identity("staging")})


def test_missing_mount(authority: Authority) -> None:
    env = environment_for("local", {"vaultMount": "nokv"})
    with pytest.raises(VaultNotFound) as info:
        preflight(env, conn(authority), environ={"VAULT_TOKEN": authority.bao.root_token})
    assert "nokv" in one_line(info)


def test_sealed(running_openbao: object, authority: Authority) -> None:
    admin = authority.admin()
    admin.sys.seal()
    try:
        with pytest.raises(VaultUnreachable, match="sealed") as info:
            preflight(LOCAL, conn(authority), environ={"VAULT_TOKEN": authority.local_token})
        one_line(info)
    finally:
        authority.bao.start()  # unseals with the kept material


def test_transit_preflight(authority: Authority) -> None:
    key = "finance-report-staging"
    transit_preflight(key, conn(authority), encrypt=True, environ={"VAULT_TOKEN": authority.identity("staging")})
    prod, ro = "finance-report-production", {"VAULT_TOKEN": authority.identity("production-readonly")}
    transit_preflight(prod, conn(authority), environ=ro)
    with pytest.raises(VaultPermissionDenied) as info:
        transit_preflight(prod, conn(authority), encrypt=True, environ=ro)
    assert f"transit/encrypt/{prod}" in one_line(info)
    with pytest.raises(VaultPermissionDenied) as info:
        transit_preflight(key, conn(authority), environ={"VAULT_TOKEN": authority.identity("production")})
    assert f"transit/decrypt/{key}" in one_line(info)
