"""A Dokploy environment inside a project.

`adopt_default=True` takes over the project's default `production` environment (created with the project,
impossible to create, rename or delete): it is never created and never deleted, only its description is
managed when one is given. Other environments are created-and-located by their description tag.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from components.dokploy.base import (
    DokployProvider,
    Parent,
    Props,
    adopt_or_locate,
    adopt_replacement,
    failures_for,
    field_diff,
    is_unknown,
    missing_as_not_found,
    read_or_gone,
    resource_marker,
    with_outputs,
)
from components.dokploy.client import DokployClient
from components.dokploy.errors import DokployError, DokployForbiddenError, DokployNotFoundError
from components.dokploy.markers import split_description, tag_description
from components.dokploy.project import default_environment, services_of

DEFAULT_NAME = "production"
FIELDS = ("project_id", "name", "description", "marker", "adopt_default")
REPLACE = ("project_id", "adopt_default")
PARENT = Parent(kind="project", field="projectId", prop="project_id")
GONE = (DokployNotFoundError, DokployForbiddenError)  # read and delete: either means the environment is gone


class EnvironmentProvider(DokployProvider):
    def check(self, _olds: Props, news: Props) -> CheckResult:
        errors = {}
        name, adopt = news.get("name"), bool(news.get("adopt_default"))
        news = {**news, "adopt_default": adopt}
        if adopt:
            news["name"] = DEFAULT_NAME if name in (None, "") else name
            if news["name"] != DEFAULT_NAME:
                errors["name"] = "the default environment is always named 'production' and cannot be renamed"
            # Only a description that was given is managed on an environment we do not own.
            news["marker"] = ""
        else:
            if not is_unknown(name) and (not isinstance(name, str) or not name.strip()):
                errors["name"] = "an environment needs a non-empty name"
            elif name == DEFAULT_NAME:
                errors["name"] = "'production' is the project's default environment: set adopt_default=True to use it"
            news["description"] = news.get("description") or ""
        return CheckResult(news, failures_for(errors))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        fields = [f for f in FIELDS if not (news.get("adopt_default") and f == "description")]
        if news.get("adopt_default") and news.get("description") is not None:
            fields.append("description")
        return adopt_replacement(_id, news) or field_diff(olds, news, fields, REPLACE)

    def create(self, props: Props) -> CreateResult:
        with self.client() as c:
            if props.get("adopt_default"):
                envs = c.query("environment.byProjectId", projectId=props["project_id"]) or []
                row = default_environment(envs)
                if row is None:
                    raise DokployNotFoundError(
                        f"project {props['project_id']} has no default environment to adopt",
                        procedure="environment.byProjectId",
                        status=404,
                    )
            else:
                row, _ = adopt_or_locate(
                    c,
                    props,
                    kind="environment",
                    one=_one,
                    parent=PARENT,
                    find=lambda: [
                        e
                        for e in c.query("environment.byProjectId", projectId=props["project_id"]) or []
                        if split_description(e.get("description"))[1] == props["marker"]
                    ],
                    create=lambda: c.mutate("environment.create", _create_body(props), repeat_safe=False),
                    ident=lambda e: str(e["environmentId"]),
                )
            eid = str(row["environmentId"])
            _update(c, eid, props, row)
            return CreateResult(eid, _outputs(_one(c, eid), props))

    def read(self, id_: str, props: Props) -> ReadResult:
        with self.client() as c:
            return read_or_gone(c, id_, props, one=_one, outputs=_outputs, gone=GONE)

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        with self.client() as c:
            _update(c, id_, news, None)
            return UpdateResult(_outputs(_one(c, id_), news))

    def delete(self, id_: str, props: Props) -> None:
        if props.get("adopt_default"):
            return  # the project's default environment is never deleted (the project's removal takes it)
        with self.client() as c:
            try:
                row = _one(c, id_)
            except GONE:
                return
            leftovers = services_of([row])
            if leftovers:
                raise DokployError(
                    f"environment {id_} still holds services ({', '.join(leftovers[:10])}); delete them first",
                    procedure="environment.remove",
                )
            with contextlib.suppress(DokployNotFoundError):
                c.mutate("environment.remove", {"environmentId": id_}, repeat_safe=True)


def _one(c: DokployClient, environment_id: str) -> dict[str, Any]:
    return dict(c.query("environment.one", environmentId=environment_id))


def _create_body(props: Props) -> dict[str, Any]:
    return {
        "name": props["name"],
        "projectId": props["project_id"],
        "description": tag_description(props.get("description"), props["marker"]),
    }


def _update(c: DokployClient, eid: str, props: Props, row: dict[str, Any] | None) -> None:
    body: dict[str, Any] = {"environmentId": eid}
    if props.get("adopt_default"):
        if props.get("description") is None:
            return
        body["description"] = props["description"]  # never a name: the default cannot be renamed
    else:
        body["name"] = props["name"]
        body["description"] = tag_description(props.get("description"), props["marker"])
    if row is not None and all(row.get(k) == v for k, v in body.items() if k != "environmentId"):
        return
    # environment.update wraps every failure, not-found included, as 400 (dokploy-api.md §3.2).
    missing = f"environment {eid} no longer exists in Dokploy; run `pulumi refresh` so it is recreated"
    with missing_as_not_found(missing, procedure="environment.update"):
        c.mutate("environment.update", body, repeat_safe=True)


def _outputs(row: dict[str, Any], props: Props) -> Props:
    adopt = bool(props.get("adopt_default"))
    description, marker = split_description(row.get("description"))
    return {
        "environment_id": row["environmentId"],
        "project_id": row.get("projectId"),
        "name": row.get("name"),
        # The default environment carries no tag: its description is compared only when one is managed.
        "description": (row.get("description") if adopt else description),
        "marker": "" if adopt else marker,
        "adopt_default": adopt,
        "adopt_id": props.get("adopt_id"),
        "is_default": bool(row.get("isDefault")) or (adopt and row.get("name") == DEFAULT_NAME),
    }


class Environment(Resource, module="dokploy", name="Environment"):
    """A Dokploy environment. Outputs: environment_id, project_id, name, description, is_default."""

    name: pulumi.Output[str]
    is_default: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        project_id: pulumi.Input[str],
        name: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        adopt_default: bool = False,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project_id": project_id,
            "name": name,
            "description": description,
            "adopt_default": adopt_default,
            "adopt_id": adopt_id,
            "marker": resource_marker("Environment", resource_name),
        }
        super().__init__(EnvironmentProvider(), resource_name, with_outputs(props, ("is_default",)), opts)

    @property
    def environment_id(self) -> pulumi.Output[str]:
        """The Dokploy id: the resource id, which stays known in previews (outputs of an update do not)."""
        return self.id
