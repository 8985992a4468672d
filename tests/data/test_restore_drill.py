"""The restore drill (issue 19, acceptance 1): the backup service's own script against a real PostgreSQL
(Debian's) and a real S3 server (versitygw): write rows, back up, drop, restore, compare."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from components.compose import render
from components.compose.backup import SCRIPT, script_text
from components.environment import environment_for
from components.vault.keys import BACKUP_KEYS
from ops import restore_drill
from ops.scratch_postgres import ScratchPostgres
from tests.data.conftest import Destination
from tests.support.openbao import OpenBao

REPO = Path(__file__).resolve().parents[2]
STAGING = environment_for("staging", {"imageTag": "sha-abc1234"})
PREFIX = STAGING.backups.prefix("staging", "postgres")

SCHEMA = """
CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE entries (
  id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id),
  amount numeric(14, 2) NOT NULL, memo text, booked date NOT NULL DEFAULT current_date
);
CREATE INDEX entries_by_account ON entries(account_id);
INSERT INTO accounts(name) VALUES ('cash'), ('bank'), ('résumé ✓');
INSERT INTO entries(account_id, amount, memo)
  SELECT 1 + g % 3, (g * 7.31)::numeric(14, 2), CASE WHEN g % 5 = 0 THEN NULL ELSE 'memo ' || g END
  FROM generate_series(1, 500) g;
"""
SNAPSHOT = (
    "SELECT a.name, e.id, e.amount, e.memo, e.booked FROM entries e JOIN accounts a ON a.id = e.account_id "
    "ORDER BY e.id"
)


def _env(pg: ScratchPostgres, dest: Destination, **extra: str) -> dict[str, str]:
    return {**pg.client_env(), **dest.values(), "BACKUP_PREFIX": PREFIX, **extra}


def _run(action: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(SCRIPT), action, *args], env=env, capture_output=True, text=True, check=False)


def test_the_compose_ships_this_very_script() -> None:
    """What the drill runs is what the staging and production `backup` services run, byte for byte."""
    for stack, tag in (("staging", "sha-abc1234"), ("production", "v1.0.0")):
        env = environment_for(stack, {"imageTag": tag})
        (postgres,) = (f for f in render.plan(env, render.Images("b", "f")) if f.name == "postgres")
        service = yaml.safe_load(postgres.text)["services"]["backup"]
        assert service["environment"]["BACKUP_SCRIPT"].replace("$$", "$") == script_text()
        crontab = service["environment"]["BACKUP_CRONTAB"].replace("$$", "$")
        assert crontab.startswith(env.backups.schedule + " ")
        assert f"BACKUP_PREFIX={stack}/postgres" in crontab and f"BACKUP_KEEP={env.backups.keep}" in crontab


def test_write_back_up_drop_restore_compare(postgres: ScratchPostgres, destination: Destination) -> None:
    postgres.psql(SCHEMA)
    before = postgres.psql(SNAPSHOT)
    assert before.count("\n") == 499

    env = _env(postgres, destination, BACKUP_PREFIX="drill/postgres")
    done = _run("backup", env)
    assert done.returncode == 0, done.stderr
    (key,) = destination.keys("drill/postgres/")
    assert key.endswith(".dump") and f"uploaded {key}" in done.stdout

    # A bad release: a table gone and rows changed in the other.
    postgres.psql("DROP TABLE entries; UPDATE accounts SET name = 'lost' WHERE id = 1")
    done = _run("restore", env, key)
    assert done.returncode == 0, done.stderr
    assert postgres.psql(SNAPSHOT) == before
    assert postgres.psql("SELECT name FROM accounts ORDER BY id") == "cash\nbank\nrésumé ✓"
    # The index and the constraint came back too, not just the rows.
    assert postgres.psql("SELECT indexname FROM pg_indexes WHERE tablename = 'entries' ORDER BY 1") == (
        "entries_by_account\nentries_pkey"
    )
    with pytest.raises(RuntimeError, match="foreign key"):
        postgres.psql("INSERT INTO entries(account_id, amount) VALUES (99, 1)")


def test_retention_keeps_the_newest_and_restore_takes_the_latest(
    postgres: ScratchPostgres, destination: Destination
) -> None:
    postgres.psql("CREATE TABLE marks (n int)")
    prefix = "retention/postgres"
    env = _env(postgres, destination, BACKUP_PREFIX=prefix, BACKUP_KEEP="2")
    for n in range(1, 4):
        postgres.psql("INSERT INTO marks SELECT coalesce(max(n), 0) + 1 FROM marks")
        assert _run("backup", env).returncode == 0
        if n < 3:
            _next_second()
    kept = destination.keys(prefix + "/")
    assert len(kept) == 2 and _run("list", env).stdout.split() == kept
    postgres.psql("DELETE FROM marks")
    assert _run("restore", env, "latest").returncode == 0
    assert postgres.psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM marks") == "1,2,3"


def _next_second() -> None:
    """Dump keys are UTC timestamps to the second: wait for the next one rather than a fixed sleep."""
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.05)


def test_keys_never_reach_a_command_line(postgres: ScratchPostgres, destination: Destination, tmp_path: Path) -> None:
    """Every curl the script starts is recorded by a shim first on PATH: its argv holds no key."""
    shim = tmp_path / "curl"
    log = tmp_path / "argv.log"
    real = subprocess.run(["sh", "-c", "command -v curl"], capture_output=True, text=True, check=True).stdout.strip()
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = _env(postgres, destination, BACKUP_PREFIX="argv/postgres")
    env["PATH"] = f"{tmp_path}:{env['PATH']}"
    postgres.psql("CREATE TABLE t (n int)")
    assert _run("backup", env).returncode == 0
    argv = log.read_text()
    assert argv.count("--aws-sigv4") >= 2  # upload and listing went through the shim
    assert destination.key.secret not in argv and destination.key.access not in argv
    assert postgres.password not in argv


def test_a_missing_destination_is_one_clear_line(destination: Destination) -> None:
    env = {**os.environ, **destination.values(), "BACKUP_PREFIX": PREFIX, "PGDATABASE": "finance_report"}
    del env["BACKUP_S3_SECRET_KEY"]
    done = _run("backup", env)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "pg-backup: BACKUP_S3_SECRET_KEY is not set; put it in Vault (docs/data.md) or the environment"
    )


def test_make_restore_drill_path_reads_vault_and_restores_into_a_scratch_cluster(
    postgres: ScratchPostgres, destination: Destination, openbao: OpenBao
) -> None:
    """`python -m ops restore-drill --stack staging`: destination from staging's postgres secret in Vault,
    newest dump restored into a fresh cluster of its own, row counts printed."""
    postgres.psql(SCHEMA)
    assert _run("backup", _env(postgres, destination)).returncode == 0
    admin = openbao.client()
    if "secret/" not in admin.sys.list_mounted_secrets_engines():
        admin.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    admin.secrets.kv.v2.create_or_update_secret(
        path=STAGING.vault_path("postgres"),
        mount_point="secret",
        secret={"POSTGRES_PASSWORD": "x" * 32, **destination.values()},
    )
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PG", "VAULT_"))}, **openbao.env()}
    done = _drill(env)
    assert done.returncode == 0, done.stderr
    assert "public.entries: 500 rows" in done.stdout and "public.accounts: 3 rows" in done.stdout
    assert destination.key.secret not in done.stdout + done.stderr

    # Without a readable destination: one line, exit 1.
    env["VAULT_TOKEN"] = "not-a-token"
    done = _drill(env)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "cannot read secret/finance_report/staging/postgres from Vault" in done.stderr


def _drill(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ops", "restore-drill", "--stack", "staging"]
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False, timeout=120)


def test_backup_keys_are_the_scripts_inputs() -> None:
    text = SCRIPT.read_text()
    assert all(k in text for k in BACKUP_KEYS)
    assert restore_drill.model("production").backups.enabled and not restore_drill.model("local").backups.enabled
