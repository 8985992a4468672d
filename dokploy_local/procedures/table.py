"""The handler of each emulated procedure, registered by the router modules with `@procedure(...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dokploy_local.context import Context

Handler = Callable[[Context, dict[str, Any]], Any]

HANDLERS: dict[str, Handler] = {}
# Procedures a member may not use (`withPermission`): 401 before the input is even validated.
ADMIN_ONLY: set[str] = set()


class _NoBody:
    """A procedure that returns `undefined`: 200 with an empty body."""


NO_BODY = _NoBody()


def procedure(name: str, *, admin: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        if admin:
            ADMIN_ONLY.add(name)
        return handler

    return register


def fk_violation(table: str, column: str, ref_table: str, ref_column: str) -> str:
    """Postgres's message for a foreign key that points nowhere (drizzle's constraint naming)."""
    return (
        f'insert or update on table "{table}" violates foreign key constraint '
        f'"{table}_{column}_{ref_table}_{ref_column}_fk"'
    )


def failed_query(sql: str, params: list[object]) -> str:
    """drizzle's `DrizzleQueryError` message, which Dokploy passes on as is: the SQL and its parameters, not the
    Postgres reason (a foreign key violation says only `Failed query: ...`)."""
    return f"Failed query: {sql}\nparams: {','.join(str(p) for p in params)}"


def failed_insert(table: str, row: dict[str, object]) -> str:
    columns = ", ".join(f'"{c}"' for c in row)
    values = ", ".join(f"${n}" for n in range(1, len(row) + 1))
    sql = f'insert into "{table}" ({columns}) values ({values}) returning {columns}'  # noqa: S608 (a message)
    return failed_query(sql, list(row.values()))


def failed_update(table: str, key: str, changes: dict[str, object], key_value: object) -> str:
    sets = ", ".join(f'"{c}" = ${n}' for n, c in enumerate(changes, 1))
    where = f'"{table}"."{key}" = ${len(changes) + 1}'
    sql = f'update "{table}" set {sets} where {where} returning *'  # noqa: S608 (an error message, never run)
    return failed_query(sql, [*changes.values(), key_value])
