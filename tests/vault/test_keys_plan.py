"""Key definitions per environment and the ensure plan (pure: no Vault). The live checks are elsewhere."""

from __future__ import annotations

import pytest

from components.environment import environment_for
from components.vault.ensure import Plan, plan, references
from components.vault.errors import MissingProvidedKey, VaultNotFound
from components.vault.keys import (
    BACKUP_KEYS,
    KeyClass,
    KeySpec,
    ServiceSecrets,
    derived,
    generated,
    provided,
    secret_layout,
)
from tests.support.leaks import find_leaks

# seed-system.md §9.10: exactly these seven, for staging and production
SEED_APP_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
    "OPENROUTER_API_KEY",
)
ENVS = {
    "staging": environment_for("staging", {"imageTag": "sha-abcdef0"}),
    "production": environment_for("production", {"imageTag": "v1.2.3"}),
    "local": environment_for("local"),
    "pr-7": environment_for("pr-7"),
}


def test_staging_and_production_follow_the_real_layout() -> None:
    for name in ("staging", "production"):
        layout = {s.service: s for s in secret_layout(ENVS[name])}
        assert set(layout) == {"postgres", "redis", "app"}
        # The seed's keys, plus the backup destination (docs/data.md): the operator's, in the postgres secret,
        # derived copies in the app's (its MinIO mirror).
        assert layout["postgres"].names == ("POSTGRES_PASSWORD", *BACKUP_KEYS)
        assert set(layout["postgres"].of(KeyClass.PROVIDED)) == set(BACKUP_KEYS)
        assert layout["redis"].names == ("PASSWORD",)
        assert set(layout["app"].names) == {*SEED_APP_KEYS, *BACKUP_KEYS}
        assert set(layout["app"].of(KeyClass.PROVIDED)) == {"S3_ACCESS_KEY", "S3_SECRET_KEY", "OPENROUTER_API_KEY"}
        assert layout["app"].path == f"finance_report/{name}/app"


@pytest.mark.parametrize("name", ["local", "pr-7"])
def test_local_and_pr_need_nothing_by_hand_and_stay_under_their_prefix(name: str) -> None:
    env = ENVS[name]
    for spec in secret_layout(env):
        assert spec.path.startswith(f"finance_report/{name}/")
        assert not spec.of(KeyClass.PROVIDED)
        for key in spec.keys:
            for service, _ in references(key.template):
                assert service in env.services  # sources come from the same environment


def test_pr_has_one_secret_with_throwaway_credentials() -> None:
    (spec,) = secret_layout(ENVS["pr-7"])
    assert spec.path == "finance_report/pr-7/pr-7"
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "MINIO_ROOT_PASSWORD"} <= set(spec.of(KeyClass.GENERATED))
    assert {"DATABASE_URL", "REDIS_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY"} <= set(spec.of(KeyClass.DERIVED))


def test_generated_keys_are_at_least_24_characters() -> None:
    with pytest.raises(ValueError, match="at least 24"):
        KeySpec("X", KeyClass.GENERATED, length=23)
    for env in ENVS.values():
        for spec in secret_layout(env):
            assert all(k.length >= 24 for k in spec.keys if k.cls is KeyClass.GENERATED)


# --- the plan ---------------------------------------------------------------------------------
PG = ServiceSecrets("postgres", "finance_report/t/postgres", (generated("POSTGRES_PASSWORD"),))
APP = ServiceSecrets(
    "app",
    "finance_report/t/app",
    (
        derived("DATABASE_URL", "postgresql://postgres:${postgres.POSTGRES_PASSWORD|url}@db:5432/x"),
        derived("S3_BUCKET", "statements"),
        provided("OPENROUTER_API_KEY"),
    ),
)
SALT = "00" * 16


def _app_plan(current: dict[str, str] | None, pg: dict[str, str] | None, fps: dict[str, str]) -> Plan:
    return plan(APP, current, lambda svc: pg if svc == "postgres" else None, fps, SALT, where="secret/t/app")


def test_generated_created_when_missing_and_never_overwritten() -> None:
    p = plan(PG, None, lambda _: None, {}, SALT, where="w")
    assert p.generated == ["POSTGRES_PASSWORD"] and len(p.writes["POSTGRES_PASSWORD"]) >= 24
    assert plan(PG, {"POSTGRES_PASSWORD": "set-by-hand"}, lambda _: None, {}, SALT, where="w").writes == {}
    assert plan(PG, {"POSTGRES_PASSWORD": ""}, lambda _: None, {}, SALT, where="w").generated == ["POSTGRES_PASSWORD"]
    assert "writes" not in repr(p) and p.writes["POSTGRES_PASSWORD"] not in repr(p)


def test_derived_recomputed_only_when_a_source_changes() -> None:
    first = _app_plan({"OPENROUTER_API_KEY": "k"}, {"POSTGRES_PASSWORD": "a/b"}, {})
    assert first.writes["DATABASE_URL"] == "postgresql://postgres:a%2Fb@db:5432/x"  # URL-quoted source
    assert first.writes["S3_BUCKET"] == "statements"
    fps = first.fingerprints
    data = {"OPENROUTER_API_KEY": "k", **first.writes}

    same = _app_plan(data, {"POSTGRES_PASSWORD": "a/b"}, fps)
    assert same.writes == {} and not same.changes(fps)

    hand = {**data, "DATABASE_URL": "postgresql://elsewhere"}  # a hand-set derived value survives...
    assert _app_plan(hand, {"POSTGRES_PASSWORD": "a/b"}, fps).writes == {}
    moved = _app_plan(hand, {"POSTGRES_PASSWORD": "new"}, fps)  # ...until its source changes
    assert moved.writes == {"DATABASE_URL": "postgresql://postgres:new@db:5432/x"} and moved.changes(fps)

    gone = {k: v for k, v in data.items() if k != "S3_BUCKET"}  # a deleted derived key comes back
    assert _app_plan(gone, {"POSTGRES_PASSWORD": "a/b"}, fps).writes == {"S3_BUCKET": "statements"}


def test_existing_derived_values_are_adopted_not_rewritten() -> None:
    live = {"OPENROUTER_API_KEY": "k", "DATABASE_URL": "postgresql://live", "S3_BUCKET": "statements"}
    p = _app_plan(live, {"POSTGRES_PASSWORD": "pw"}, {})
    assert p.writes == {} and set(p.fingerprints) == {"DATABASE_URL", "S3_BUCKET"}


def test_missing_provided_key_names_path_and_key_and_writes_nothing() -> None:
    with pytest.raises(MissingProvidedKey) as info:
        _app_plan({}, {"POSTGRES_PASSWORD": "pw"}, {})
    msg = str(info.value)
    assert "secret/t/app" in msg and "OPENROUTER_API_KEY" in msg and "\n" not in msg


def test_missing_source_names_service_and_key() -> None:
    with pytest.raises(VaultNotFound, match="POSTGRES_PASSWORD of service postgres"):
        _app_plan({"OPENROUTER_API_KEY": "k"}, None, {})


def test_messages_never_carry_values() -> None:
    secret = "very-secret-provided-value-123"
    try:
        plan(APP, {"OPENROUTER_API_KEY": secret}, lambda _: None, {}, SALT, where="secret/t/app")
    except VaultNotFound as exc:
        assert not find_leaks(str(exc), [secret])
    else:
        raise AssertionError("a missing source must fail")
