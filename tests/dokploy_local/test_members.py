"""Member API keys limited to listed projects (`dokploy-api.md` §1.2): 401 outside them, checked before
existence for services; 403 from `environment.one`; no registry access."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dokploy_local.testing import LocalDokploy
from tests.dokploy_local.api import Api

MEMBER_KEY = "member-key-1"


@pytest.fixture(scope="module")
def world(server: LocalDokploy, api: Api) -> dict[str, Any]:
    mine, my_compose = api.project_with_compose()
    theirs, their_compose = api.project_with_compose()
    by_name = api.project("member-by-name")
    server.add_member_key(MEMBER_KEY, [mine["project"]["projectId"], "member-by-name"])
    return {"mine": mine, "my_compose": my_compose, "theirs": theirs, "their_compose": their_compose, "named": by_name}


@pytest.fixture(scope="module")
def member(server: LocalDokploy) -> Iterator[Api]:
    client = Api(server, key=MEMBER_KEY)
    yield client
    client.close()


def test_member_reads_its_project(world: dict[str, Any], member: Api) -> None:
    assert member.get("project.one", projectId=world["mine"]["project"]["projectId"]).status_code == 200


def test_member_reads_project_listed_by_name(world: dict[str, Any], member: Api) -> None:
    assert member.get("project.one", projectId=world["named"]["project"]["projectId"]).status_code == 200


def test_other_project_is_401(world: dict[str, Any], member: Api) -> None:
    response = member.get("project.one", projectId=world["theirs"]["project"]["projectId"])
    assert (response.status_code, response.json()["message"]) == (401, "You don't have access to this project")


def test_unknown_project_is_401_not_404(world: dict[str, Any], member: Api) -> None:
    assert member.get("project.one", projectId="unknown").status_code == 401


def test_project_all_lists_only_member_projects(world: dict[str, Any], member: Api) -> None:
    listed = {p["projectId"] for p in member.ok("GET", "project.all")}
    assert listed == {world["mine"]["project"]["projectId"], world["named"]["project"]["projectId"]}


def test_other_compose_is_401(world: dict[str, Any], member: Api) -> None:
    response = member.get("compose.one", composeId=world["their_compose"]["composeId"])
    assert (response.status_code, response.json()["message"]) == (401, "You don't have access to this service")


def test_unknown_compose_is_401_not_404(world: dict[str, Any], member: Api) -> None:
    assert member.get("compose.one", composeId="unknown").status_code == 401


def test_own_compose_is_readable(world: dict[str, Any], member: Api) -> None:
    assert member.get("compose.one", composeId=world["my_compose"]["composeId"]).status_code == 200


def test_domains_of_unknown_compose_is_401(world: dict[str, Any], member: Api) -> None:
    assert member.get("domain.byComposeId", composeId="unknown").status_code == 401


def test_deploy_other_compose_is_401(world: dict[str, Any], member: Api) -> None:
    assert member.post("compose.deploy", composeId=world["their_compose"]["composeId"]).status_code == 401


def test_compose_create_in_other_project_is_401(world: dict[str, Any], member: Api) -> None:
    env_id = world["theirs"]["environment"]["environmentId"]
    assert member.post("compose.create", name="x", environmentId=env_id).status_code == 401


def test_compose_create_in_own_project(world: dict[str, Any], member: Api) -> None:
    env_id = world["mine"]["environment"]["environmentId"]
    assert member.post("compose.create", name="mine", environmentId=env_id).status_code == 200


def test_environment_create_in_other_project_is_401(world: dict[str, Any], member: Api) -> None:
    response = member.post("environment.create", name="x", projectId=world["theirs"]["project"]["projectId"])
    assert response.status_code == 401


def test_environment_one_outside_is_403(world: dict[str, Any], member: Api) -> None:
    response = member.get("environment.one", environmentId=world["theirs"]["environment"]["environmentId"])
    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN")


def test_environments_of_other_project_are_hidden(world: dict[str, Any], member: Api) -> None:
    assert member.ok("GET", "environment.byProjectId", projectId=world["theirs"]["project"]["projectId"]) == []


def test_member_cannot_create_projects(world: dict[str, Any], member: Api) -> None:
    response = member.post("project.create", name="x")
    assert (response.status_code, response.json()["message"]) == (400, "Error creating the project: Permission denied")


def test_registry_is_admin_only(world: dict[str, Any], member: Api) -> None:
    response = member.get("registry.all")
    assert (response.status_code, response.json()["message"]) == (401, "UNAUTHORIZED")


def test_admin_check_precedes_input_validation(world: dict[str, Any], member: Api) -> None:
    assert member.post("registry.create", {}).status_code == 401
