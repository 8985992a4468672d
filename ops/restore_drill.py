"""The restore drill: restore an environment's newest database dump into a scratch PostgreSQL and count it.

    make restore-drill STACK=staging            # or: python -m ops restore-drill --stack staging [--key K]

It reads the backup destination from Vault (the postgres secret's BACKUP_S3_*, VAULT_ADDR/VAULT_TOKEN of
someone who may read it), starts a throwaway PostgreSQL on loopback (ops/scratch_postgres.py), and runs
`pg-backup.sh restore` - the very script the environment's `backup` service runs - into it. It never
touches the environment's own database. It prints the dump it restored and each table's row count, and
fails (exit 1) when there is no dump, the restore fails, or the restored database has no tables: a
backup nobody can restore is no backup. docs/data.md says how often to run it and what to compare.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

import hvac

from components.compose.backup import SCRIPT
from components.environment import Environment, commit_tag_pattern
from components.vault.keys import BACKUP_KEYS
from ops import stacks
from ops.scratch_postgres import ScratchPostgres, scratch


class DrillFailed(RuntimeError):
    """The drill could not restore a usable database; the message says why and what to do."""


@dataclass(frozen=True)
class DrillResult:
    key: str  # the dump restored
    tables: dict[str, int]  # schema.table -> rows


def model(stack: str) -> Environment:
    """The stack's environment; the drill needs no image, so any tag the model accepts will do."""
    pattern = commit_tag_pattern(stack)
    tag = stacks.image_tag(stack, "0" * 7) if pattern else ("v0.0.0" if stack == "production" else None)
    return stacks.environment(stack, tag)


def destination(env: Environment, client: hvac.Client) -> dict[str, str]:
    """The BACKUP_S3_* of the environment's postgres secret (what its backup service renders)."""
    if not env.backups.enabled:
        raise DrillFailed(f"stack {env.stack} has no backups (components/environment.py); nothing to drill")
    try:
        data = client.secrets.kv.v2.read_secret_version(
            path=env.vault_path("postgres"), mount_point=env.vault_mount, raise_on_deleted_version=True
        )["data"]["data"]
    except hvac.exceptions.VaultError as exc:
        raise DrillFailed(
            f"cannot read {env.vault_mount}/{env.vault_path('postgres')} from Vault ({type(exc).__name__}); "
            "set VAULT_ADDR and a VAULT_TOKEN that may read it"
        ) from None
    missing = [k for k in BACKUP_KEYS if not data.get(k)]
    if missing:
        raise DrillFailed(
            f"{env.vault_path('postgres')} lacks {', '.join(missing)}; set the backup destination (docs/first-day.md)"
        )
    return {k: str(data[k]) for k in BACKUP_KEYS}


def run_script(action: str, env: Mapping[str, str], *args: str) -> str:
    """`pg-backup.sh <action>` with `env` (PG*, BACKUP_*); its output, or DrillFailed with its last words."""
    done = subprocess.run(
        ["sh", str(SCRIPT), action, *args], env=dict(env), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DrillFailed(f"pg-backup.sh {action} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return done.stdout


# Exact row counts of every user table in one static query (identifiers quoted by format's %I).
_COUNTS = (
    "SELECT format('%I.%I', schemaname, relname) || ' ' || (xpath('/row/c/text()', query_to_xml("
    "format('SELECT count(*) AS c FROM %I.%I', schemaname, relname), false, true, '')))[1]::text "
    "FROM pg_stat_user_tables ORDER BY 1"
)


def table_counts(pg: ScratchPostgres) -> dict[str, int]:
    """schema.table -> rows of the cluster's database."""
    return {t: int(n) for t, n in (line.rsplit(" ", 1) for line in pg.psql(_COUNTS).splitlines())}


def drill(
    env: Environment, dest: Mapping[str, str], *, key: str = "latest", into: ScratchPostgres | None = None
) -> DrillResult:
    """Restore `key` (default the newest dump) of `env` into a scratch cluster; the tables and their counts."""
    pg = into or scratch()
    own = into is None
    if own:
        pg.start()
    try:
        child = {**pg.client_env(), **dest, "BACKUP_PREFIX": env.backups.prefix(env.name, "postgres")}
        out = run_script("restore", child, key)
        restored = out.strip().splitlines()[-1].split()[2] if out.strip() else key
        tables = table_counts(pg)
        if not tables:
            raise DrillFailed(f"the restored dump {restored} holds no tables; check the backup service's logs")
        return DrillResult(key=restored, tables=tables)
    finally:
        if own:
            pg.stop()


def main(stack: str, key: str = "latest") -> int:
    env = model(stack)
    client = hvac.Client(url=os.environ.get("VAULT_ADDR", env.vault_address), token=os.environ.get("VAULT_TOKEN"))
    result = drill(env, destination(env, client), key=key)
    print(f"restore drill {stack}: restored {result.key} into a scratch PostgreSQL")
    for table, rows in result.tables.items():
        print(f"  {table}: {rows} rows")
    return 0
