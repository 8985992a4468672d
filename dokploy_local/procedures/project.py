"""`project.*` (`routers/project.ts`). Every `project.create` failure is re-thrown as 400 "Error creating the
project: ..."; a project always comes with its default `production` environment."""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.errors import TrpcError, bad_request, not_found, unauthorized
from dokploy_local.procedures.table import failed_update, procedure
from dokploy_local.rows import production_environment_row, project_row
from dokploy_local.views import project_detail, project_listing


@procedure("project.create")
def create(ctx: Context, data: dict[str, Any]) -> Any:
    if ctx.principal.is_member:
        # `checkPermission` -> better-auth's `role.authorize` error, re-wrapped by the router (observed v0.30.2)
        raise bad_request('Error creating the project: unauthorized to access resource "project"')
    with ctx.store.transaction():
        project = ctx.store.insert("project", project_row(data, ctx.organization_id))
        environment = ctx.store.insert("environment", production_environment_row(project["projectId"]))
    return {"project": project, "environment": environment}


@procedure("project.all")
def all_projects(ctx: Context, data: dict[str, Any]) -> Any:
    projects = ctx.store.all("project", newest_first=True)
    return project_listing(ctx.store, projects, lambda p: ctx.in_organization(p) and ctx.can_access_project(p))


@procedure("project.one")
def one(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_project_access(data["projectId"])
    project = ctx.find_project(data["projectId"])
    if not ctx.in_organization(project):
        if ctx.principal.is_member:
            raise not_found("Project not found")
        raise unauthorized("You are not authorized to access this project")
    return project_detail(ctx.store, project)


@procedure("project.update")
def update(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        project = ctx.find_project(data["projectId"])
        if not ctx.in_organization(project):
            raise unauthorized("You are not authorized to update this project")
        ctx.require_project_access(project["projectId"])
        changes = {k: v for k, v in data.items() if k != "projectId"}
        if "organizationId" in changes and changes["organizationId"] != ctx.organization_id:
            # Only one organisation exists here: another id breaks the foreign key, drizzle's unhandled 500.
            raise TrpcError(
                "INTERNAL_SERVER_ERROR", failed_update("project", "projectId", changes, project["projectId"])
            )
        return ctx.store.replace("project", {**project, **changes})


@procedure("project.remove")
def remove(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        project = ctx.find_project(data["projectId"])
        if not ctx.in_organization(project):
            raise unauthorized("You are not authorized to delete this project")
        if ctx.principal.is_member:
            raise unauthorized("Permission denied")
        # Only the database row goes; foreign keys cascade to environments, composes, domains and deployments.
        ctx.store.delete("project", project["projectId"])
    return project
