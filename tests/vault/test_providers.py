"""The dynamic providers' methods called directly against OpenBao (fast, precise), for what the engine
tests (test_stack_engine.py) do not reach: PR token isolation, purge, refresh, fences and fallbacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hvac
import hvac.exceptions
import pytest

from components.environment import environment_for
from components.vault import authority as A
from components.vault.connection import VaultConnection, forget_logins
from components.vault.errors import MissingProvidedKey, VaultError
from components.vault.keys import secret_layout
from components.vault.resources import KvSecretProvider, ServiceTokenProvider
from tests.support.leaks import Secret, digest, hide
from tests.vault.conftest import Authority


@pytest.fixture
def as_identity(monkeypatch: pytest.MonkeyPatch, authority: Authority) -> Iterator[Any]:
    """Run provider methods as a given token (they read VAULT_TOKEN at call time)."""

    def use(token: str) -> None:
        forget_logins()
        for var in ("VAULT_SERVER_TOKEN", "VAULT_TOKEN_FILE", "VAULT_ROLE_ID", "VAULT_JWT_ROLE", "VAULT_AUTH_METHOD"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("VAULT_TOKEN", token)

    yield use
    forget_logins()


def kv_props(authority: Authority, env_name: str, service: str | None = None, **over: Any) -> dict[str, Any]:
    tags = {"staging": {"imageTag": "sha-0000000"}}
    env = environment_for(env_name, tags.get(env_name, {}))
    spec = next(s for s in secret_layout(env) if service in (None, s.service))
    props = {
        "connection": VaultConnection(address=authority.address).to_inputs(),
        "mount": "secret",
        "prefix": env.vault_prefix,
        "service": spec.service,
        "path": spec.path,
        "keys": [k.to_inputs() for k in spec.keys],
        "purge_on_delete": env.delete_volumes_on_destroy,
    }
    return {**props, **over}


def token_props(authority: Authority, env_name: str, service: str, rotation: str = "") -> dict[str, Any]:
    return {
        "connection": VaultConnection(address=authority.address).to_inputs(),
        "role": A.token_role(env_name, service),
        "policies": [A.service_policy(env_name, service)],
        "env": env_name,
        "service": service,
        "display_name": f"finance_report-{env_name}-{service}",
        "rotation": rotation,
        "entity_alias": A.entity_alias(env_name) or "",
    }


def mint(props: dict[str, Any]) -> dict[str, Any]:
    outs = ServiceTokenProvider().create(props).outs or {}
    return {**outs, "token": Secret(outs["token"])}  # shown as a digest if an assertion fails


def kv(authority: Authority, path: str) -> dict[str, str] | None:
    try:
        resp = authority.admin().secrets.kv.v2.read_secret_version(
            path, mount_point="secret", raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        return None
    return hide(dict(resp["data"]["data"]))


def test_pr_tokens_read_only_their_own_pr(authority: Authority, as_identity: Any) -> None:
    kvp = KvSecretProvider()
    made = {}
    for pr in ("pr-7", "pr-8"):
        as_identity(authority.identity(pr))  # each PR's job has its own identity (its ref)
        kvp.create(kv_props(authority, pr))
        made[pr] = mint(token_props(authority, pr, pr))
    own = hvac.Client(url=authority.address, token=made["pr-7"]["token"])
    data = own.secrets.kv.v2.read_secret_version(
        "finance_report/pr-7/pr-7", mount_point="secret", raise_on_deleted_version=True
    )
    assert len(Secret(data["data"]["data"]["POSTGRES_PASSWORD"])) >= 24
    for other in ("finance_report/pr-8/pr-8", "finance_report/staging/app", "finance_report/local/app"):
        with pytest.raises(hvac.exceptions.Forbidden):
            own.secrets.kv.v2.read_secret_version(other, mount_point="secret", raise_on_deleted_version=True)


def test_pr_identity_cannot_mint_an_alias_that_escapes_its_pr(authority: Authority) -> None:
    pr = hvac.Client(url=authority.address, token=authority.identity("pr-7"))
    for alias in ("staging", "production", "pr-8", "pr-7/../../staging"):
        with pytest.raises((hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden)):
            pr.write_data(f"auth/token/create/{A.token_role('pr-7', 'pr-7')}", data={"entity_alias": alias})
    with pytest.raises(hvac.exceptions.Forbidden):  # nor through another PR's role
        pr.write_data(f"auth/token/create/{A.token_role('pr-8', 'pr-8')}", data={"entity_alias": "pr-8"})


def test_destroying_a_pr_purges_its_secret_and_revokes_its_token(authority: Authority, as_identity: Any) -> None:
    as_identity(authority.identity("pr-9"))
    kvp, tp = KvSecretProvider(), ServiceTokenProvider()
    props = kv_props(authority, "pr-9")
    outs = kvp.create(props).outs or {}
    tok = mint(token_props(authority, "pr-9", "pr-9"))
    assert kvp.read("secret/finance_report/pr-9/pr-9", outs).id
    tp.delete(tok["accessor"], tok)
    kvp.delete("id", outs)
    assert kv(authority, "finance_report/pr-9/pr-9") is None
    assert authority.as_token(tok["token"]).token_valid() is None
    assert kvp.read("id", outs).id == ""  # refresh sees it gone
    assert tp.read("id", tok).id == ""


def test_refresh_and_diff_notice_a_revoked_token(authority: Authority, as_identity: Any) -> None:
    as_identity(authority.identity("pr-9"))
    tp = ServiceTokenProvider()
    outs = mint(token_props(authority, "pr-9", "pr-9"))
    assert tp.diff("id", outs, token_props(authority, "pr-9", "pr-9")).changes is False
    assert tp.diff("id", outs, token_props(authority, "pr-9", "pr-9", rotation="r2")).replaces == ["rotation"]
    authority.admin().auth.token.revoke(outs["token"])
    d = tp.diff("id", outs, token_props(authority, "pr-9", "pr-9"))
    assert d.changes and d.replaces == ["token"]


def test_staging_secret_with_missing_provided_keys_fails_naming_them(authority: Authority, as_identity: Any) -> None:
    as_identity(authority.identity("staging"))
    with pytest.raises(MissingProvidedKey) as info:
        KvSecretProvider().create(kv_props(authority, "staging", "app"))
    msg = str(info.value)
    assert "secret/finance_report/staging/app" in msg and "S3_ACCESS_KEY" in msg and "OPENROUTER_API_KEY" in msg
    assert kv(authority, "finance_report/staging/app") is None  # nothing half-written


def test_staging_secrets_are_kept_on_destroy(authority: Authority, as_identity: Any) -> None:
    as_identity(authority.identity("staging"))
    outs = KvSecretProvider().create(kv_props(authority, "staging", "redis")).outs or {}
    before = kv(authority, "finance_report/staging/redis")
    KvSecretProvider().delete("id", outs)
    after = kv(authority, "finance_report/staging/redis")
    assert before and after and digest(after["PASSWORD"]) == digest(before["PASSWORD"])


def test_a_path_outside_the_prefix_is_refused_before_vault(authority: Authority, as_identity: Any) -> None:
    as_identity(authority.bao.root_token)  # even root: the provider itself refuses
    bad = kv_props(authority, "local", "redis", path="finance_report/staging/redis")
    assert KvSecretProvider().check({}, bad).failures
    with pytest.raises(VaultError, match="outside this stack's prefix"):
        KvSecretProvider().create(bad)


def test_an_identity_that_may_not_read_diffs_on_inputs_only(authority: Authority, as_identity: Any) -> None:
    as_identity(authority.local_token)
    outs = KvSecretProvider().create(kv_props(authority, "local", "redis")).outs or {}
    as_identity(authority.identity("production-readonly"))  # no read of local's KV
    props = kv_props(authority, "local", "redis")
    assert KvSecretProvider().diff("id", outs, props).changes is False
    assert KvSecretProvider().diff("id", outs, {**props, "purge_on_delete": False}).changes is True
