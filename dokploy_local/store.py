"""SQLite state under `--data`: every Dokploy object, the member keys and the organisation.

Each object is one row holding its JSON as the API returns it, plus the columns needed to find it (its id,
its parent, its creation time). Foreign keys with `ON DELETE CASCADE` give Dokploy's cascades (project ->
environments -> composes -> domains and deployments) for free. One connection, serialised by a lock, shared by
the HTTP threads and the deployment workers; WAL with synchronous=NORMAL survives a killed process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dokploy_local.ids import nanoid

Row = dict[str, Any]

# table -> (id column, parent column or None, parent table)
TABLES: dict[str, tuple[str, str | None, str | None]] = {
    "project": ("projectId", None, None),
    "environment": ("environmentId", "projectId", "project"),
    "compose": ("composeId", "environmentId", "environment"),
    "domain": ("domainId", "composeId", "compose"),
    "deployment": ("deploymentId", "composeId", "compose"),
    "registry": ("registryId", None, None),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS project (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS environment (
    id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES project(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS compose (
    id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES environment(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS domain (
    id TEXT PRIMARY KEY, parent TEXT REFERENCES compose(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deployment (
    id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES compose(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registry (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS member_key (key TEXT PRIMARY KEY, projects TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_key (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS environment_parent ON environment(parent);
CREATE INDEX IF NOT EXISTS compose_parent ON compose(parent);
CREATE INDEX IF NOT EXISTS domain_parent ON domain(parent);
CREATE INDEX IF NOT EXISTS deployment_parent ON deployment(parent);
"""


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "dokploy.sqlite3"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        with self.transaction():
            self.organization_id = self._meta("organizationId", nanoid)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit; nested use joins the outer transaction."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _meta(self, key: str, default: Any) -> str:
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if found:
            return str(found[0])
        value = str(default())
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
        return value

    def next_serial(self, name: str) -> int:
        """A Postgres `serial`: increases forever, never reused after deletes."""
        with self.transaction():
            value = int(self._meta(name, lambda: 0)) + 1
            self._db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(value), name))
            return value

    # objects

    def insert(self, table: str, row: Row) -> Row:
        id_col, parent_col, _ = TABLES[table]
        with self._lock:
            if parent_col is None:
                self._db.execute(
                    f"INSERT INTO {table} (id, created_at, data) VALUES (?, ?, ?)",  # noqa: S608 - fixed names
                    (row[id_col], row["createdAt"], json.dumps(row)),
                )
            else:
                self._db.execute(
                    f"INSERT INTO {table} (id, parent, created_at, data) VALUES (?, ?, ?, ?)",  # noqa: S608
                    (row[id_col], row[parent_col], row["createdAt"], json.dumps(row)),
                )
        return row

    def insert_many(self, table: str, rows: list[Row]) -> None:
        id_col, parent_col, _ = TABLES[table]
        with self._lock:
            if parent_col is None:
                self._db.executemany(
                    f"INSERT INTO {table} (id, created_at, data) VALUES (?, ?, ?)",  # noqa: S608
                    [(r[id_col], r["createdAt"], json.dumps(r)) for r in rows],
                )
            else:
                self._db.executemany(
                    f"INSERT INTO {table} (id, parent, created_at, data) VALUES (?, ?, ?, ?)",  # noqa: S608
                    [(r[id_col], r[parent_col], r["createdAt"], json.dumps(r)) for r in rows],
                )

    def get(self, table: str, object_id: str) -> Row | None:
        with self._lock:
            found = self._db.execute(f"SELECT data FROM {table} WHERE id = ?", (object_id,)).fetchone()  # noqa: S608
        return json.loads(found[0]) if found else None

    def replace(self, table: str, row: Row) -> Row:
        id_col, parent_col, _ = TABLES[table]
        with self._lock:
            if parent_col is None:
                self._db.execute(
                    f"UPDATE {table} SET data = ? WHERE id = ?",  # noqa: S608
                    (json.dumps(row), row[id_col]),
                )
            else:
                self._db.execute(
                    f"UPDATE {table} SET data = ?, parent = ? WHERE id = ?",  # noqa: S608
                    (json.dumps(row), row[parent_col], row[id_col]),
                )
        return row

    def delete(self, table: str, object_id: str) -> None:
        with self._lock:
            self._db.execute(f"DELETE FROM {table} WHERE id = ?", (object_id,))  # noqa: S608

    def children(self, table: str, parent_id: str, *, newest_first: bool = False) -> list[Row]:
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT data FROM {table} WHERE parent = ? ORDER BY created_at {order}, rowid {order}",  # noqa: S608
                (parent_id,),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def children_of_many(self, table: str, parent_ids: list[str]) -> dict[str, list[Row]]:
        """Children grouped by parent, oldest first: one query for a whole listing."""
        grouped: dict[str, list[Row]] = {p: [] for p in parent_ids}
        if not parent_ids:
            return grouped
        with self._lock:
            rows = self._db.execute(
                f"SELECT parent, data FROM {table} ORDER BY created_at, rowid"  # noqa: S608
            ).fetchall()
        for parent, data in rows:
            if parent in grouped:
                grouped[parent].append(json.loads(data))
        return grouped

    def all(self, table: str, *, newest_first: bool = False) -> list[Row]:
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT data FROM {table} ORDER BY created_at {order}, rowid {order}"  # noqa: S608
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def count(self, table: str) -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

    def exists(self, table: str, object_id: str) -> bool:
        with self._lock:
            found = self._db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (object_id,)).fetchone()  # noqa: S608
        return found is not None

    # member keys

    def set_member_key(self, key: str, projects: list[str]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO member_key (key, projects) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET projects = excluded.projects",
                (key, json.dumps(projects)),
            )

    def member_keys(self) -> dict[str, list[str]]:
        with self._lock:
            rows = self._db.execute("SELECT key, projects FROM member_key ORDER BY key").fetchall()
        return {key: json.loads(projects) for key, projects in rows}

    def member_projects(self, key: str) -> list[str] | None:
        with self._lock:
            found = self._db.execute("SELECT projects FROM member_key WHERE key = ?", (key,)).fetchone()
        return json.loads(found[0]) if found else None

    # API keys made with `user.createApiKey`: only the SHA-256 of the key is kept (better-auth stores a hash too)

    def add_api_key(self, key_hash: str, row: dict[str, object]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO api_key (id, hash, data) VALUES (?, ?, ?)", (row["id"], key_hash, json.dumps(row))
            )

    def api_key_by_hash(self, key_hash: str) -> dict[str, object] | None:
        with self._lock:
            found = self._db.execute("SELECT data FROM api_key WHERE hash = ?", (key_hash,)).fetchone()
        return json.loads(found[0]) if found else None

    def api_key(self, key_id: str) -> dict[str, object] | None:
        with self._lock:
            found = self._db.execute("SELECT data FROM api_key WHERE id = ?", (key_id,)).fetchone()
        return json.loads(found[0]) if found else None

    def api_keys(self) -> list[dict[str, object]]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM api_key ORDER BY id").fetchall()
        return [json.loads(data) for (data,) in rows]

    def delete_api_key(self, key_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM api_key WHERE id = ?", (key_id,))
