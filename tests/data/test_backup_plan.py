"""Backups in the plans (issue 19, acceptance 1): staging's and production's programs, run under Pulumi
mocks, register the backup service and mirror in their composes and the destination's keys in Vault as
operator-provided keys; pr-<N> and local register none of it."""

from __future__ import annotations

import pytest
import yaml

from components.environment import ConfigError, environment_for
from components.vault.keys import BACKUP_KEYS
from tests.stacks.mocks import Recorder, run_program

CONFIG = {"financeReport:productionReviewers": '{"users": [1234]}', "financeReport:releaseAppId": "42"}
STACKS = {
    "staging": ({"imageTag": "sha-abc1234"}, None),
    "production": ({"imageTag": "v1.0.45"}, "main-project-id"),
    "pr-7": ({"imageTag": "pr-7-abc1234"}, "preview-project-id"),
    "local": ({}, None),
}
COMPOSE = "pulumi-python:dynamic/dokploy:Compose"
KV = "pulumi-python:dynamic/vault:KvSecret"


@pytest.fixture(autouse=True)
def _plugins_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("components.github.require_plugin", lambda *a, **k: None)


def _plan(stack: str) -> Recorder:
    config, project = STACKS[stack]
    return run_program(environment_for(stack, config), project_id=project, config=CONFIG)


def _services(rec: Recorder) -> dict[str, set[str]]:
    out = {}
    for r in rec.by_name.values():
        if r.type == COMPOSE:
            out[r.plain("name")] = set(yaml.safe_load(r.plain("compose_file"))["services"])
    return out


def _kv_keys(rec: Recorder) -> dict[str, dict[str, str]]:
    out = {}
    for r in rec.by_name.values():
        if r.type == KV:
            out[r.plain("service")] = {k["name"]: k["cls"] for k in r.plain("keys")}
    return out


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_long_lived_stacks_plan_backups(stack: str) -> None:
    rec = _plan(stack)
    services = _services(rec)
    assert "backup" in services["postgres"] and "minio-mirror" in services["app"]
    kv = _kv_keys(rec)
    # The destination: provided by the operator in the postgres secret, copied (derived) into the app's.
    assert {k: kv["postgres"][k] for k in BACKUP_KEYS} == dict.fromkeys(BACKUP_KEYS, "provided")
    assert {k: kv["app"][k] for k in BACKUP_KEYS} == dict.fromkeys(BACKUP_KEYS, "derived")
    # No key value anywhere in what the program registers: the compose names files, never values.
    (postgres,) = (r for r in rec.by_name.values() if r.type == COMPOSE and r.plain("name") == "postgres")
    assert "BACKUP_S3_SECRET_KEY=" not in postgres.plain("compose_file")
    assert not postgres.plain("env")  # nothing in Dokploy's env either


def test_the_schedule_and_retention_come_from_the_model() -> None:
    prod = environment_for("production", {"imageTag": "v1.0.45"})
    staging = environment_for("staging", {"imageTag": "sha-abc1234"})
    assert prod.backups.keep > staging.backups.keep and prod.backups.mirror_minutes < staging.backups.mirror_minutes
    tuned = environment_for("staging", {"imageTag": "sha-abc1234", "backupSchedule": "0 */6 * * *", "backupKeep": "3"})
    assert (tuned.backups.schedule, tuned.backups.keep) == ("0 */6 * * *", 3)
    with pytest.raises(ConfigError, match=r"^config financeReport:backupSchedule='daily' is not a 5-field cron"):
        environment_for("staging", {"imageTag": "sha-abc1234", "backupSchedule": "daily"})


@pytest.mark.parametrize("stack", ["pr-7", "local"])
def test_throwaway_stacks_plan_no_backups(stack: str) -> None:
    rec = _plan(stack)
    assert not any({"backup", "minio-mirror"} & s for s in _services(rec).values())
    assert not any(k.startswith("BACKUP_") for keys in _kv_keys(rec).values() for k in keys)
