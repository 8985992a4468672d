"""A Dokploy project.

Create-and-locate by the description tag in `project.all`; `adopt_id` takes over an existing project.
Delete refuses while the project still holds services Pulumi does not manage: `project.remove` cascades
in the database only and would orphan their running containers (dokploy-api.md §3.1).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from components.dokploy.base import (
    DokployProvider,
    Props,
    adopt_or_locate,
    adopt_replacement,
    failures_for,
    field_diff,
    is_unknown,
    read_or_gone,
    resource_marker,
    with_outputs,
)
from components.dokploy.client import DokployClient
from components.dokploy.errors import DokployError, DokployNotFoundError
from components.dokploy.markers import split_description, tag_description

FIELDS = ("name", "description", "marker")
SERVICE_KINDS = ("compose", "applications", "libsql", "mariadb", "mongo", "mysql", "postgres", "redis")


def services_of(environments: list[dict[str, Any]]) -> list[str]:
    names = []
    for env in environments or []:
        for kind in SERVICE_KINDS:
            for svc in env.get(kind) or []:
                names.append(f"{kind}:{svc.get('name')} in {env.get('name')}")
    return names


def default_environment(environments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """isDefault since v0.26.1; before that the default environment is the one named production."""
    flagged = [e for e in environments if e.get("isDefault") is True]
    if flagged:
        return flagged[0]
    named = [e for e in environments if e.get("name") == "production"]
    return named[0] if named else None


class ProjectProvider(DokployProvider):
    def check(self, _olds: Props, news: Props) -> CheckResult:
        errors = {}
        name = news.get("name")
        if not is_unknown(name) and (not isinstance(name, str) or not name.strip()):
            errors["name"] = "a project needs a non-empty name"
        news = {**news, "description": news.get("description") or ""}
        return CheckResult(news, failures_for(errors))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        return adopt_replacement(_id, news) or field_diff(olds, news, FIELDS)

    def create(self, props: Props) -> CreateResult:
        with self.client() as c:
            row, _ = adopt_or_locate(
                c,
                props,
                kind="project",
                one=_one,
                find=lambda: [p for p in c.query("project.all") or [] if _marker(p) == props["marker"]],
                create=lambda: c.mutate("project.create", _body(props), repeat_safe=False)["project"],
                ident=lambda p: str(p["projectId"]),
            )
            pid = str(row["projectId"])
            if _needs_update(row, props):
                c.mutate("project.update", {"projectId": pid, **_body(props)}, repeat_safe=True)
            return CreateResult(pid, _outputs(_one(c, pid), props))

    def read(self, id_: str, props: Props) -> ReadResult:
        with self.client() as c:
            return read_or_gone(c, id_, props, one=_one, outputs=_outputs)

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        with self.client() as c:
            c.mutate("project.update", {"projectId": id_, **_body(news)}, repeat_safe=True)
            return UpdateResult(_outputs(_one(c, id_), news))

    def delete(self, id_: str, _props: Props) -> None:
        with self.client() as c:
            try:
                row = _one(c, id_)
            except DokployNotFoundError:
                return
            leftovers = services_of(row.get("environments") or [])
            if leftovers:
                raise DokployError(
                    f"project {id_} still holds services Pulumi does not manage ({', '.join(leftovers[:10])}); "
                    "removing it would orphan their containers: delete them in Dokploy first",
                    procedure="project.remove",
                )
            with contextlib.suppress(DokployNotFoundError):
                c.mutate("project.remove", {"projectId": id_}, repeat_safe=True)


def _one(c: DokployClient, project_id: str) -> dict[str, Any]:
    return dict(c.query("project.one", projectId=project_id))


def _marker(row: dict[str, Any]) -> str:
    return split_description(row.get("description"))[1]


def _body(props: Props) -> dict[str, Any]:
    return {"name": props["name"], "description": tag_description(props.get("description"), props["marker"])}


def _needs_update(row: dict[str, Any], props: Props) -> bool:
    return row.get("name") != props["name"] or row.get("description") != _body(props)["description"]


def _outputs(row: dict[str, Any], props: Props) -> Props:
    description, marker = split_description(row.get("description"))
    default = default_environment(row.get("environments") or [])
    return {
        "project_id": row["projectId"],
        "name": row.get("name"),
        "description": description,
        "marker": marker,
        "adopt_id": props.get("adopt_id"),
        "default_environment_id": default.get("environmentId") if default else None,
    }


class Project(Resource, module="dokploy", name="Project"):
    """A Dokploy project. Outputs: project_id, name, description, marker, default_environment_id."""

    default_environment_id: pulumi.Output[str]
    name: pulumi.Output[str]
    description: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "name": name,
            "description": description,
            "adopt_id": adopt_id,
            "marker": resource_marker("Project", resource_name),
        }
        super().__init__(ProjectProvider(), resource_name, with_outputs(props, ("default_environment_id",)), opts)

    @property
    def project_id(self) -> pulumi.Output[str]:
        """The Dokploy id: the resource id, which stays known in previews (outputs of an update do not)."""
        return self.id
