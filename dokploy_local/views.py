"""Nested response shapes: what Dokploy's relational queries (`with: {...}`) return around the plain rows.

Only compose services exist here; the arrays for applications and databases are always empty but present, as
the real queries return them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dokploy_local.store import Store

Row = dict[str, Any]
OTHER_SERVICES = ("applications", "mariadb", "mongo", "mysql", "postgres", "redis")


# The fields of a compose in each view's per-environment summary, in Dokploy's order (each ends with "server").
_PROJECT_ONE_COMPOSE = ("name", "description", "appName", "createdAt", "serverId", "composeId", "composeStatus")
_ENVIRONMENT_ONE_COMPOSE = ("composeId", "name", "createdAt", "composeStatus", "description", "serverId", "icon")
_BY_PROJECT_COMPOSE = (*_PROJECT_ONE_COMPOSE, "icon")


def _compose_summaries(store: Store, environment_id: str, fields: tuple[str, ...]) -> list[Row]:
    """The composes of an environment as a view lists them: `fields` of each row, and no server."""
    return [{k: c[k] for k in fields} | {"server": None} for c in store.children("compose", environment_id)]


def _services(compose: list[Row]) -> Row:
    out: Row = {name: [] for name in OTHER_SERVICES}
    out["compose"] = compose
    out["libsql"] = []
    return out


def project_listing(store: Store, projects: list[Row], visible: Callable[[Row], bool]) -> list[Row]:
    """`project.all`: each project with environment summaries and `{composeId, name, composeStatus}` per compose."""
    envs = store.children_of_many("environment", [p["projectId"] for p in projects])
    composes = store.children_of_many("compose", [e["environmentId"] for es in envs.values() for e in es])
    out = []
    for project in projects:
        if not visible(project):
            continue
        environments = []
        for env in envs[project["projectId"]]:
            summary = [
                {"composeId": c["composeId"], "name": c["name"], "composeStatus": c["composeStatus"]}
                for c in composes[env["environmentId"]]
            ]
            environments.append(
                {"name": env["name"], "environmentId": env["environmentId"], "isDefault": env["isDefault"]}
                | _services(summary)
            )
        out.append({**project, "environments": environments, "projectTags": []})
    return out


def project_detail(store: Store, project: Row) -> Row:
    """`project.one`: the project, its full environment rows and a summary of each service."""
    environments = []
    for env in store.children("environment", project["projectId"]):
        summary = _compose_summaries(store, env["environmentId"], _PROJECT_ONE_COMPOSE)
        environments.append(env | _services(summary))
    return {**project, "environments": environments, "projectTags": []}


def environment_detail(store: Store, env: Row, project: Row | None) -> Row:
    """`environment.one` (`findEnvironmentById`)."""
    summary = _compose_summaries(store, env["environmentId"], _ENVIRONMENT_ONE_COMPOSE)
    head = {k: env[k] for k in ("name", "description", "environmentId", "isDefault", "projectId", "env")}
    return head | _services(summary) | {"project": project}


def environments_of_project(store: Store, project_id: str) -> list[Row]:
    """`environment.byProjectId` (`findEnvironmentsByProjectId`), oldest first."""
    project = store.get("project", project_id)
    out = []
    for env in store.children("environment", project_id):
        summary = _compose_summaries(store, env["environmentId"], _BY_PROJECT_COMPOSE)
        head = {k: env[k] for k in ("name", "description", "environmentId", "isDefault")}
        out.append(head | _services(summary) | {"project": project})
    return out


def compose_detail(store: Store, compose: Row) -> Row:
    """`findComposeById`: the row with its environment (and project), deployments, domains and empty relations."""
    env = store.get("environment", compose["environmentId"]) or {}
    project = store.get("project", env.get("projectId", ""))
    return {
        **compose,
        "environment": {**env, "project": project},
        "deployments": store.children("deployment", compose["composeId"]),
        "mounts": [],
        "domains": store.children("domain", compose["composeId"]),
        "github": None,
        "gitlab": None,
        "bitbucket": None,
        "gitea": None,
        "server": None,
        "backups": [],
    }


def domains_of_compose(store: Store, compose_id: str) -> list[Row]:
    compose = store.get("compose", compose_id)
    if compose is None:
        return []
    summary = {"composeId": compose["composeId"], "appName": compose["appName"], "name": compose["name"]}
    return [{**d, "compose": summary} for d in store.children("domain", compose_id)]
