"""The handler of each emulated procedure, registered by the router modules with `@procedure(...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dokploy_local.context import Context

Handler = Callable[[Context, dict[str, Any]], Any]

HANDLERS: dict[str, Handler] = {}
# `adminProcedure`: its middleware refuses members with a bare 401 before the input is even validated.
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
