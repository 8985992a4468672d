"""`registry.*` (`routers/registry.ts`, `services/registry.ts`), all `adminProcedure`s.

`create` runs `docker login` inside its transaction: a failed login answers 400 with the docker CLI's stderr,
the password naively replaced by `***`, and stores nothing. `update` saves first and logs in afterwards, so a
failed login still leaves the change saved. docker login is not run here: `registry_login_error` (a knob) is
the stderr every login fails with; unset, every login succeeds. `create` and `all` include the plaintext
password, `one` leaves it out, `update` answers `true`.
"""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.errors import bad_request, not_found, unauthorized
from dokploy_local.procedures.table import procedure
from dokploy_local.rows import registry_row


def _login(ctx: Context, password: str) -> None:
    error = ctx.knobs.registry_login_error
    if error is not None:
        raise bad_request(error.replace(password, "***") if password else error)


def _find(ctx: Context, registry_id: str) -> dict[str, Any]:
    row = ctx.store.get("registry", registry_id)
    if row is None:
        raise not_found("Registry not found")
    return row


def _owned(ctx: Context, registry_id: str, action: str) -> dict[str, Any]:
    """The registry, which must belong to the caller's organization; `action` names what is refused if not."""
    row = _find(ctx, registry_id)
    if row["organizationId"] != ctx.organization_id:
        raise unauthorized(f"You are not allowed to {action} this registry")
    return row


@procedure("registry.create", admin=True)
def create(ctx: Context, data: dict[str, Any]) -> Any:
    if data.get("serverId") and data["serverId"] != "none":
        raise not_found("Server not found")
    with ctx.store.transaction():
        row = registry_row(data, ctx.organization_id)
        _login(ctx, row["password"])
        return ctx.store.insert("registry", row)


@procedure("registry.all", admin=True)
def all_registries(ctx: Context, data: dict[str, Any]) -> Any:
    return [row for row in ctx.store.all("registry") if row["organizationId"] == ctx.organization_id]


@procedure("registry.one", admin=True)
def one(ctx: Context, data: dict[str, Any]) -> Any:
    row = _owned(ctx, data["registryId"], "access")
    return {k: v for k, v in row.items() if k != "password"}


@procedure("registry.update", admin=True)
def update(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        row = _owned(ctx, data["registryId"], "update")
        changes = {k: v for k, v in data.items() if k not in ("registryId", "serverId")}
        row = ctx.store.replace("registry", {**row, **changes})
    if row["registryType"] == "cloud":
        _login(ctx, row["password"])
    return True


@procedure("registry.remove", admin=True)
def remove(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        row = _owned(ctx, data["registryId"], "delete")
        ctx.store.delete("registry", row["registryId"])
    return row


@procedure("registry.testRegistry", admin=True)
def test_registry(ctx: Context, data: dict[str, Any]) -> Any:
    _login(ctx, data.get("password", ""))
    return True
