"""`environment.*` (`routers/environment.ts`). `update` re-wraps every failure, not-found included, as 400
"Error updating the environment: ..."; `byProjectId` answers `[]` for an unknown project."""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.errors import TrpcError, bad_request
from dokploy_local.procedures.table import fk_violation, procedure
from dokploy_local.rows import environment_row
from dokploy_local.views import environment_detail, environments_of_project

RESERVED = "production"


def _forbidden() -> TrpcError:
    return TrpcError("FORBIDDEN", "You are not allowed to access this environment")


@procedure("environment.create")
def create(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_project_access(data["projectId"])
    if data["name"] == RESERVED:
        raise bad_request("You cannot create a environment with the name 'production'")
    with ctx.store.transaction():
        if not ctx.store.exists("project", data["projectId"]):
            violation = fk_violation("environment", "projectId", "project", "projectId")
            raise bad_request(f"Error creating the environment: {violation}")
        return ctx.store.insert("environment", environment_row(data))


@procedure("environment.one")
def one(ctx: Context, data: dict[str, Any]) -> Any:
    environment = ctx.find_environment(data["environmentId"])
    project = ctx.project_of_environment(environment)
    if not ctx.in_organization(project) or not ctx.can_access_project(project):
        raise _forbidden()
    return environment_detail(ctx.store, environment, project)


@procedure("environment.byProjectId")
def by_project(ctx: Context, data: dict[str, Any]) -> Any:
    project = ctx.store.get("project", data["projectId"])
    if project is None:
        return []
    if not ctx.in_organization(project):
        raise bad_request(f"Error fetching environments: {_forbidden().message}")
    if not ctx.can_access_project(project):
        return []
    return environments_of_project(ctx.store, project["projectId"])


@procedure("environment.update")
def update(ctx: Context, data: dict[str, Any]) -> Any:
    try:
        with ctx.store.transaction():
            return _update(ctx, data)
    except TrpcError as error:
        raise bad_request(f"Error updating the environment: {error.message}") from error


def _update(ctx: Context, data: dict[str, Any]) -> Any:
    existing = ctx.store.get("environment", data["environmentId"])
    if ctx.principal.is_member and (
        existing is None or not ctx.can_access_project(ctx.project_of_environment(existing))
    ):
        raise TrpcError("UNAUTHORIZED", "You don't have access to this environment")
    environment = ctx.find_environment(data["environmentId"])
    if environment["isDefault"] and "name" in data:
        raise bad_request("You cannot rename the default environment")
    if not ctx.in_organization(ctx.project_of_environment(environment)):
        raise _forbidden()
    if "projectId" in data and not ctx.store.exists("project", data["projectId"]):
        raise TrpcError("INTERNAL_SERVER_ERROR", fk_violation("environment", "projectId", "project", "projectId"))
    changes = {k: v for k, v in data.items() if k in ("name", "description", "projectId", "env")}
    return ctx.store.replace("environment", {**environment, **changes})


@procedure("environment.remove")
def remove(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        environment = ctx.find_environment(data["environmentId"])
        if not ctx.in_organization(ctx.project_of_environment(environment)):
            raise _forbidden()
        if environment["isDefault"]:
            raise bad_request("You cannot delete the default environment")
        ctx.require_project_access(environment["projectId"])
        if ctx.store.children("compose", environment["environmentId"]):
            raise bad_request("Cannot delete environment: it has active services. Delete all services first.")
        ctx.store.delete("environment", environment["environmentId"])
    return environment
