"""Member API keys (`dokploy-api.md` §1.2): 401 outside their projects, checked before existence for services;
403 from `environment.one`; no registry access; no project creation.

`outsider` is a member without access to the scratch project (the imitation's own, or CONTRACT_DOKPLOY_MEMBER_KEY
on a real server); `insider` is a member of the imitation limited to listed projects (its control API sets that).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dokploy_local.testing import LocalDokploy
from tests.contract.api import Api

INSIDER_KEY = "member-key-1"


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, Any]:
    """`theirs`: an environment and compose of the scratch project, which no member may access."""
    theirs, their_compose = api.project_with_compose()
    return {"theirs": theirs, "their_compose": their_compose}


@pytest.fixture(scope="module")
def own(imitation: LocalDokploy) -> Iterator[tuple[Api, dict[str, Any]]]:
    """A throwaway project of the imitation and a member listed on it (by id, and one more by name)."""
    owner = Api(imitation.url, imitation.api_key)
    mine, my_compose = owner.project_with_compose()
    named = owner.project("member-by-name")
    imitation.add_member_key(INSIDER_KEY, [mine["project"]["projectId"], "member-by-name"])
    insider = owner.with_key(INSIDER_KEY)
    yield insider, {"mine": mine, "my_compose": my_compose, "named": named}
    for created in (mine, named):
        owner.post("project.remove", projectId=created["project"]["projectId"])
    insider.close()
    owner.close()


def test_member_reads_its_project(own: tuple[Api, dict[str, Any]]) -> None:
    member, world = own
    assert member.get("project.one", projectId=world["mine"]["project"]["projectId"]).status_code == 200


def test_member_reads_project_listed_by_name(own: tuple[Api, dict[str, Any]]) -> None:
    member, world = own
    assert member.get("project.one", projectId=world["named"]["project"]["projectId"]).status_code == 200


def test_other_project_is_401(world: dict[str, Any], outsider: Api) -> None:
    response = outsider.get("project.one", projectId=world["theirs"]["project"]["projectId"])
    assert (response.status_code, response.json()["message"]) == (401, "You don't have access to this project")


def test_unknown_project_is_401_not_404(outsider: Api) -> None:
    assert outsider.get("project.one", projectId="unknown").status_code == 401


def test_project_all_lists_only_member_projects(own: tuple[Api, dict[str, Any]]) -> None:
    member, world = own
    listed = {p["projectId"] for p in member.ok("GET", "project.all")}
    assert listed == {world["mine"]["project"]["projectId"], world["named"]["project"]["projectId"]}


def test_other_compose_is_401(world: dict[str, Any], outsider: Api) -> None:
    response = outsider.get("compose.one", composeId=world["their_compose"]["composeId"])
    assert (response.status_code, response.json()["message"]) == (401, "You don't have access to this service")


def test_unknown_compose_is_401_not_404(outsider: Api) -> None:
    assert outsider.get("compose.one", composeId="unknown").status_code == 401


def test_own_compose_is_readable(own: tuple[Api, dict[str, Any]]) -> None:
    member, world = own
    assert member.get("compose.one", composeId=world["my_compose"]["composeId"]).status_code == 200


def test_domains_of_unknown_compose_is_401(outsider: Api) -> None:
    assert outsider.get("domain.byComposeId", composeId="unknown").status_code == 401


def test_deploy_other_compose_is_401(world: dict[str, Any], outsider: Api) -> None:
    assert outsider.post("compose.deploy", composeId=world["their_compose"]["composeId"]).status_code == 401


def test_compose_create_in_other_project_is_401(world: dict[str, Any], outsider: Api) -> None:
    env_id = world["theirs"]["environment"]["environmentId"]
    assert outsider.post("compose.create", name="x", environmentId=env_id).status_code == 401


def test_compose_create_in_own_project(own: tuple[Api, dict[str, Any]]) -> None:
    member, world = own
    env_id = world["mine"]["environment"]["environmentId"]
    assert member.post("compose.create", name="mine", environmentId=env_id).status_code == 200


def test_environment_create_in_other_project_is_401(world: dict[str, Any], outsider: Api) -> None:
    response = outsider.post("environment.create", name="x", projectId=world["theirs"]["project"]["projectId"])
    assert response.status_code == 401


def test_environment_one_outside_is_403(world: dict[str, Any], outsider: Api) -> None:
    response = outsider.get("environment.one", environmentId=world["theirs"]["environment"]["environmentId"])
    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN")


def test_environments_of_other_project_are_hidden(world: dict[str, Any], outsider: Api) -> None:
    assert outsider.ok("GET", "environment.byProjectId", projectId=world["theirs"]["project"]["projectId"]) == []


def test_member_without_the_permission_cannot_create_projects(outsider: Api) -> None:
    """Table row 10: better-auth's refusal, re-wrapped as 400 by `project.create` (observed v0.30.2)."""
    response = outsider.post("project.create", name="x")
    expected = 'Error creating the project: unauthorized to access resource "project"'
    assert (response.status_code, response.json()["message"]) == (400, expected)


def test_registry_is_admin_only(outsider: Api) -> None:
    response = outsider.get("registry.all")
    assert (response.status_code, response.json()["message"]) == (401, 'unauthorized to access resource "registry"')


def test_admin_check_precedes_input_validation(outsider: Api) -> None:
    assert outsider.post("registry.create", {}).status_code == 401
