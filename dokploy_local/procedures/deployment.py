"""`deployment.*` (`routers/deployment.ts`): the rows a provider polls, newest first."""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.errors import not_found, unauthorized
from dokploy_local.procedures.table import procedure


@procedure("deployment.allByCompose")
def all_by_compose(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    compose = ctx.find_compose(data["composeId"])
    if not ctx.in_organization(ctx.project_of_compose(compose)):
        raise unauthorized("You are not authorized to access this compose")
    return ctx.store.children("deployment", compose["composeId"], newest_first=True)


@procedure("deployment.all")
def all_by_application(ctx: Context, data: dict[str, Any]) -> Any:
    if ctx.principal.is_member:
        raise unauthorized("You don't have access to this service")
    raise not_found("Application not found")  # applications are not emulated: none exists


@procedure("deployment.allByType")
def all_by_type(ctx: Context, data: dict[str, Any]) -> Any:
    if data["type"] in ("application", "compose"):
        ctx.require_service_access(data["id"])
    if data["type"] != "compose":
        return []
    rows = ctx.store.children("deployment", data["id"], newest_first=True)
    return [{**row, "rollback": None} for row in rows]
