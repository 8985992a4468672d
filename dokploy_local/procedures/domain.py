"""`domain.*` (`routers/domain.ts`). `create` re-wraps every failure as 400 with the underlying message: an unknown
`composeId` is drizzle's `Failed query: insert into "domain" ...` (observed v0.30.2), as the owner's access check
does not look the compose up; `one` carries the `application` relation; `byComposeId` answers `[]` for an unknown
compose (observed). Hosts are not unique; `uniqueConfigKey` is a global serial."""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.errors import TrpcError, bad_request, not_found, unauthorized
from dokploy_local.procedures.table import failed_insert, procedure
from dokploy_local.rows import domain_row
from dokploy_local.views import domains_of_compose


def _find(ctx: Context, domain_id: str) -> dict[str, Any]:
    domain = ctx.store.get("domain", domain_id)
    if domain is None:
        raise not_found("Domain not found")
    return domain


def _check_compose(ctx: Context, domain: dict[str, Any]) -> None:
    if domain["composeId"]:
        ctx.require_service_access(domain["composeId"])
        compose = ctx.find_compose(domain["composeId"])
        if not ctx.in_organization(ctx.project_of_compose(compose)):
            raise unauthorized("You are not authorized to access this compose")


@procedure("domain.create")
def create(ctx: Context, data: dict[str, Any]) -> Any:
    try:
        with ctx.store.transaction():
            return _create(ctx, data)
    except TrpcError as error:
        raise bad_request(error.message) from error


def _create(ctx: Context, data: dict[str, Any]) -> Any:
    # `checkServicePermissionAndAccess` only checks members; for the owner an unknown compose reaches the insert.
    if data.get("domainType") == "compose" and data.get("composeId"):
        ctx.require_service_access(data["composeId"])
        compose = ctx.store.get("compose", data["composeId"])
        if compose is not None and not ctx.in_organization(ctx.project_of_compose(compose)):
            raise unauthorized("You are not authorized to access this compose")
    elif data.get("domainType") == "application" and data.get("applicationId") and ctx.principal.is_member:
        raise unauthorized("You don't have access to this service")
    row = domain_row(data, ctx.store.next_serial("uniqueConfigKey"))
    dangling = (
        (data.get("composeId") is not None and not ctx.store.exists("compose", data["composeId"]))
        or data.get("applicationId") is not None  # applications are not emulated: none exists
        or data.get("previewDeploymentId") is not None
    )
    if dangling:
        raise bad_request(failed_insert("domain", row))  # drizzle's message; the foreign key is not named
    return ctx.store.insert("domain", row)


@procedure("domain.one")
def one(ctx: Context, data: dict[str, Any]) -> Any:
    domain = _find(ctx, data["domainId"])
    _check_compose(ctx, domain)
    return domain | {"application": None}  # `findDomainById` loads `with: {application: true}` (v0.30.2)


@procedure("domain.update")
def update(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        domain = _find(ctx, data["domainId"])
        _check_compose(ctx, domain)
        changes = {k: v for k, v in data.items() if k != "domainId"}
        return ctx.store.replace("domain", {**domain, **changes})


@procedure("domain.delete")
def delete(ctx: Context, data: dict[str, Any]) -> Any:
    with ctx.store.transaction():
        domain = _find(ctx, data["domainId"])
        _check_compose(ctx, domain)
        ctx.store.delete("domain", domain["domainId"])
    return domain


@procedure("domain.byComposeId")
def by_compose(ctx: Context, data: dict[str, Any]) -> Any:
    ctx.require_service_access(data["composeId"])
    return domains_of_compose(ctx.store, data["composeId"])
