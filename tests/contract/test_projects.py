"""`project.*` as observed: create returns the project and its default `production` environment, no name
uniqueness, newest first, cascade deletes, 404s.

Against any server the suite creates exactly one project, the scratch project (`scratch` is its `project.create`
answer; its removal is checked when the run ends). Tests that must create or remove more projects use `free`, a
client of the imitation only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.api import Api
from tests.contract.target import SCRATCH_DESCRIPTION, Target

NANOID = re.compile(r"^[A-Za-z0-9_-]{21}$")


@pytest.fixture(scope="module")
def free(target: Target) -> Iterator[Api]:
    """Creates and removes projects of its own: the imitation only."""
    if target.imitation is None:
        pytest.skip("creates or removes projects besides the scratch project (checked at the end of the run)")
    client = Api(target.url, target.key)
    yield client
    client.close()


def test_create_returns_project_and_default_environment(scratch: dict[str, Any]) -> None:
    env = scratch["environment"]
    assert (env["name"], env["description"], env["isDefault"], env["projectId"]) == (
        "production",
        "Production environment",
        True,
        scratch["project"]["projectId"],
    )
    assert (scratch["project"]["description"], scratch["project"]["env"]) == (SCRATCH_DESCRIPTION, "")


def test_ids_are_21_character_nanoids(scratch: dict[str, Any]) -> None:
    assert NANOID.match(scratch["project"]["projectId"]) and NANOID.match(scratch["environment"]["environmentId"])


def test_project_defaults(free: Api) -> None:
    project = free.ok("POST", "project.create", name="p-defaults")["project"]
    assert (project["description"], project["env"]) == (None, "")


def test_names_are_not_unique(free: Api) -> None:
    first, second = free.project("twin"), free.project("twin")
    assert first["project"]["projectId"] != second["project"]["projectId"]


def test_all_lists_newest_first(free: Api) -> None:
    older, newer = free.project("older"), free.project("newer")
    ids = [p["projectId"] for p in free.ok("GET", "project.all")]
    assert ids.index(newer["project"]["projectId"]) < ids.index(older["project"]["projectId"])


def test_all_summarises_compose_per_environment(api: Api) -> None:
    created, compose = api.project_with_compose()
    listed = next(p for p in api.ok("GET", "project.all") if p["projectId"] == created["project"]["projectId"])
    env = next(e for e in listed["environments"] if e["environmentId"] == created["environment"]["environmentId"])
    assert env["compose"] == [{"composeId": compose["composeId"], "name": compose["name"], "composeStatus": "idle"}]


def test_one_includes_environments(api: Api, scratch: dict[str, Any]) -> None:
    created = api.project()
    one = api.ok("GET", "project.one", projectId=created["project"]["projectId"])
    ids = [e["environmentId"] for e in one["environments"]]
    assert scratch["environment"]["environmentId"] in ids and created["environment"]["environmentId"] in ids


def test_one_unknown_is_404(api: Api) -> None:
    response = api.get("project.one", projectId="unknown")
    assert (response.status_code, response.json()["message"]) == (404, "Project not found")


def test_update_returns_updated_row(api: Api, scratch: dict[str, Any]) -> None:
    project = scratch["project"]
    updated = api.ok("POST", "project.update", projectId=project["projectId"], description="renamed")
    api.ok("POST", "project.update", projectId=project["projectId"], description=project["description"])
    assert updated == project | {"description": "renamed"}


def test_update_unknown_is_404(api: Api) -> None:
    assert api.post("project.update", projectId="unknown", name="x").status_code == 404


def test_update_naming_another_organization_is_500_failed_query(api: Api, scratch: dict[str, Any]) -> None:
    """Issue 15, row 8 (v0.30.2): an organization id that does not exist breaks the foreign key (drizzle's 500);
    the project stays where it was."""
    project_id = scratch["project"]["projectId"]
    response = api.post("project.update", projectId=project_id, organizationId="someone-elses-org-000")
    assert response.status_code == 500 and response.json()["message"].startswith('Failed query: update "project"')
    assert api.get("project.one", projectId=project_id).status_code == 200


def test_remove_returns_deleted_row(free: Api) -> None:
    created = free.project()
    assert free.ok("POST", "project.remove", projectId=created["project"]["projectId"]) == created["project"]


def test_second_remove_is_404(free: Api) -> None:
    created = free.project()
    free.ok("POST", "project.remove", projectId=created["project"]["projectId"])
    assert free.post("project.remove", projectId=created["project"]["projectId"]).status_code == 404


def test_remove_cascades_to_compose(free: Api) -> None:
    created, compose = free.project_with_compose()
    free.ok("POST", "project.remove", projectId=created["project"]["projectId"])
    assert free.get("compose.one", composeId=compose["composeId"]).status_code == 404


def test_remove_cascades_to_domains(free: Api) -> None:
    created, compose = free.project_with_compose()
    free.ok("POST", "domain.create", host="cascade.example.com", composeId=compose["composeId"], domainType="compose")
    free.ok("POST", "project.remove", projectId=created["project"]["projectId"])
    assert free.ok("GET", "domain.byComposeId", composeId=compose["composeId"]) == []
