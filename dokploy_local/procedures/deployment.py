"""`deployment.*` (`routers/deployment.ts`): the rows a provider polls, newest first, and the deploy queue.

Unknown compose or application ids answer `[]` (plain selects, observed on v0.30.2). `queueList` lists the
in-memory queue's jobs (`deployment.queueList`, v0.30.x): waiting and active ones here, newest first.
"""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.errors import unauthorized
from dokploy_local.procedures.table import procedure


@procedure("deployment.allByCompose")
def all_by_compose(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    compose = ctx.store.get("compose", data["composeId"])
    if compose is None:
        return []  # a plain `where composeId = ...` select: an unknown compose has no rows (observed v0.30.2)
    if not ctx.in_organization(ctx.project_of_compose(compose)):
        raise unauthorized("You are not authorized to access this compose")
    return ctx.store.children("deployment", compose["composeId"], newest_first=True)


@procedure("deployment.all")
def all_by_application(ctx: Context, data: dict[str, Any]) -> Any:
    if ctx.principal.is_member:
        raise unauthorized("You don't have access to this service")
    return []  # applications are not emulated: none has deployments (an unknown id answers `[]`, observed v0.30.2)


@procedure("deployment.allByType")
def all_by_type(ctx: Context, data: dict[str, Any]) -> Any:
    if data["type"] in ("application", "compose"):
        ctx.require_service_access(data["id"])
    if data["type"] != "compose":
        return []
    rows = ctx.store.children("deployment", data["id"], newest_first=True)
    return [{**row, "rollback": None} for row in rows]


@procedure("deployment.queueList")
def queue_list(ctx: Context, data: dict[str, Any]) -> Any:
    if ctx.principal.is_member:
        raise unauthorized("Permission denied")  # `withPermission("deployment", "read")`, not a default member right
    return ctx.deploys.jobs()
