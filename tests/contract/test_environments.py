"""`environment.*`: reserved `production`, undeletable default, refusal while services exist, and the re-wrapped
400s of `update`."""

from __future__ import annotations

from typing import Any

from tests.contract.api import Api


def test_create_returns_non_default_row(api: Api) -> None:
    project_id = api.project()["project"]["projectId"]
    env = api.ok("POST", "environment.create", name="staging", projectId=project_id)
    assert (env["name"], env["isDefault"], env["description"], env["env"]) == ("staging", False, None, "")


def test_production_name_is_reserved(api: Api) -> None:
    project_id = api.project()["project"]["projectId"]
    response = api.post("environment.create", name="production", projectId=project_id)
    assert (response.status_code, response.json()["message"]) == (
        400,
        "You cannot create a environment with the name 'production'",
    )


def test_names_are_not_unique(api: Api) -> None:
    project_id = api.project()["project"]["projectId"]
    api.ok("POST", "environment.create", name="dup", projectId=project_id)
    assert api.post("environment.create", name="dup", projectId=project_id).status_code == 200


def test_create_in_unknown_project_is_400(api: Api) -> None:
    response = api.post("environment.create", name="x", projectId="unknown")
    assert (response.status_code, response.json()["message"].startswith("Error creating the environment: ")) == (
        400,
        True,
    )


def test_one_has_services_and_project(api: Api) -> None:
    created, compose = api.project_with_compose()
    one = api.ok("GET", "environment.one", environmentId=created["environment"]["environmentId"])
    assert ([c["composeId"] for c in one["compose"]], one["project"]) == ([compose["composeId"]], created["project"])


def test_one_unknown_is_404(api: Api) -> None:
    response = api.get("environment.one", environmentId="unknown")
    assert (response.status_code, response.json()["message"]) == (404, "Environment not found")


def test_by_project_is_oldest_first(api: Api, scratch: dict[str, Any]) -> None:
    project_id = scratch["project"]["projectId"]
    staging = api.ok("POST", "environment.create", name="staging", projectId=project_id)
    names = [e["environmentId"] for e in api.ok("GET", "environment.byProjectId", projectId=project_id)]
    assert names[0] == scratch["environment"]["environmentId"] and names[-1] == staging["environmentId"]


def test_by_unknown_project_is_empty(api: Api) -> None:
    assert api.ok("GET", "environment.byProjectId", projectId="unknown") == []


def test_update_returns_row(api: Api) -> None:
    project_id = api.project()["project"]["projectId"]
    env = api.ok("POST", "environment.create", name="qa", projectId=project_id)
    updated = api.ok("POST", "environment.update", environmentId=env["environmentId"], description="d", env="A=1")
    assert updated == env | {"description": "d", "env": "A=1"}


def test_update_unknown_is_rewrapped_400(api: Api) -> None:
    response = api.post("environment.update", environmentId="unknown", description="d")
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Error updating the environment: Environment not found",
    )


def test_default_cannot_be_renamed(api: Api, scratch: dict[str, Any]) -> None:
    env_id = scratch["environment"]["environmentId"]
    response = api.post("environment.update", environmentId=env_id, name="prod")
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Error updating the environment: You cannot rename the default environment",
    )


def test_default_cannot_be_removed(api: Api, scratch: dict[str, Any]) -> None:
    env_id = scratch["environment"]["environmentId"]
    response = api.post("environment.remove", environmentId=env_id)
    assert (response.status_code, response.json()["message"]) == (400, "You cannot delete the default environment")


def test_remove_refused_while_services_exist(api: Api) -> None:
    project_id = api.project()["project"]["projectId"]
    env = api.ok("POST", "environment.create", name="busy", projectId=project_id)
    api.compose(env["environmentId"])
    response = api.post("environment.remove", environmentId=env["environmentId"])
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Cannot delete environment: it has active services. Delete all services first.",
    )


def test_remove_returns_row(api: Api) -> None:
    project_id = api.project()["project"]["projectId"]
    env = api.ok("POST", "environment.create", name="gone", projectId=project_id)
    assert api.ok("POST", "environment.remove", environmentId=env["environmentId"]) == env


def test_remove_unknown_is_404(api: Api) -> None:
    assert api.post("environment.remove", environmentId="unknown").status_code == 404
