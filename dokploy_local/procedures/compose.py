"""`compose.*` (`routers/compose.ts`, `services/compose.ts`).

Quirks kept: `update` on an unknown id answers 200 with an empty body and ignores `appName`, and a reference to a git
provider or SSH key that does not exist (knob `git_provider_ids`) is drizzle's 500 `Failed query`; `delete` returns the
compose as loaded before deletion (with its relations) and drops its queued jobs; `deploy`/`redeploy` only enqueue;
`stop`/`start` act at once (`idle`/`done`); `cancelDeployment` is cloud-only. For a member, every procedure but `create`
checks service access first, so an unknown id answers 401, not 404.
"""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.deploy_queue import Job
from dokploy_local.errors import TrpcError, bad_request, unauthorized
from dokploy_local.procedures.table import NO_BODY, failed_update, procedure
from dokploy_local.rows import compose_row
from dokploy_local.views import compose_detail

# Foreign keys to git providers (Dokploy's `github`, `gitlab`, ... tables, filled in its UI), and the SSH key.
GIT_PROVIDER_FIELDS = ("githubId", "gitlabId", "bitbucketId", "giteaId", "customGitSSHKeyId")


def _in_organization(ctx: Context, compose: dict[str, Any], message: str) -> None:
    if not ctx.in_organization(ctx.project_of_compose(compose)):
        raise unauthorized(message)


@procedure("compose.create")
def create(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        environment = ctx.find_environment(data["environmentId"])
        project = ctx.find_project(environment["projectId"])
        ctx.require_project_access(project["projectId"])
        if not ctx.in_organization(project):
            raise unauthorized("You are not authorized to access this project")
        if data.get("serverId"):
            raise unauthorized("You are not authorized to access this server")
        return ctx.store.insert("compose", compose_row(data))


@procedure("compose.one")
def one(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    compose = ctx.find_compose(data["composeId"])
    _in_organization(ctx, compose, "You are not authorized to access this compose")
    return compose_detail(ctx.store, compose) | {"hasGitProviderAccess": True, "unauthorizedProvider": None}


@procedure("compose.update")
def update(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    with ctx.store.transaction():
        compose = ctx.store.get("compose", data["composeId"])
        if compose is None:
            return NO_BODY  # the UPDATE matched no row; `returning()[0]` is undefined: 200, empty body (v0.30.2)
        changes = {k: v for k, v in data.items() if k not in ("composeId", "appName")}
        if _dangling_reference(ctx, changes):
            # Postgres refuses the foreign key; drizzle's error reaches the client as an unhandled 500.
            raise TrpcError(
                "INTERNAL_SERVER_ERROR", failed_update("compose", "composeId", changes, compose["composeId"])
            )
        return ctx.store.replace("compose", {**compose, **changes})


def _dangling_reference(ctx: Context, changes: dict[str, Any]) -> bool:
    if "environmentId" in changes and not ctx.store.exists("environment", changes["environmentId"]):
        return True
    known = set(ctx.knobs.snapshot()["git_provider_ids"])
    return any(changes.get(field) and changes[field] not in known for field in GIT_PROVIDER_FIELDS)


@procedure("compose.saveEnvironment")
def save_environment(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    with ctx.store.transaction():
        compose = ctx.store.get("compose", data["composeId"])
        if compose is None:
            raise bad_request("Error adding environment variables")
        changes = {k: v for k, v in data.items() if k in ("env", "createEnvFile")}
        ctx.store.replace("compose", {**compose, **changes})
    return True


@procedure("compose.delete")
def delete(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    with ctx.store.transaction():
        compose = ctx.find_compose(data["composeId"])
        _in_organization(ctx, compose, "You are not authorized to delete this compose")
        before = compose_detail(ctx.store, compose)
        ctx.store.delete("compose", compose["composeId"])
    ctx.deploys.drop_compose(compose["composeId"])
    return before


def _enqueue(ctx: Context, data: dict[str, Any], kind: str, default_title: str, message: str) -> Any:
    ctx.require_service_access(data["composeId"])
    compose = ctx.find_compose(data["composeId"])
    title = data.get("title") or default_title
    ctx.deploys.enqueue(Job(compose["composeId"], title, data.get("description") or "", kind))
    return {"success": True, "message": message, "composeId": compose["composeId"]}


@procedure("compose.deploy")
def deploy(ctx: Context, data: dict[str, Any]) -> Any:
    return _enqueue(ctx, data, "deploy", "Manual deployment", "Deployment queued")


@procedure("compose.redeploy")
def redeploy(ctx: Context, data: dict[str, Any]) -> Any:
    return _enqueue(ctx, data, "redeploy", "Rebuild deployment", "Redeployment queued")


def _set_status(ctx: Context, data: dict[str, Any], status: str) -> Any:
    ctx.require_service_access(data["composeId"])
    with ctx.store.transaction():
        compose = ctx.find_compose(data["composeId"])
        ctx.store.replace("compose", {**compose, "composeStatus": status})
    return True


@procedure("compose.stop")
def stop(ctx: Context, data: dict[str, Any]) -> Any:
    return _set_status(ctx, data, "idle")


@procedure("compose.start")
def start(ctx: Context, data: dict[str, Any]) -> Any:
    return _set_status(ctx, data, "done")


@procedure("compose.cancelDeployment")
def cancel_deployment(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    raise bad_request("Deployment cancellation only available in cloud version")
