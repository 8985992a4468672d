"""`project.*` as observed: create returns the project and its default `production` environment, no name
uniqueness, newest first, cascade deletes, 404s."""

from __future__ import annotations

import re

from tests.dokploy_local.api import Api

NANOID = re.compile(r"^[A-Za-z0-9_-]{21}$")


def test_create_returns_project_and_default_environment(api: Api) -> None:
    created = api.ok("POST", "project.create", name="p-create")
    env = created["environment"]
    assert (env["name"], env["description"], env["isDefault"], env["projectId"]) == (
        "production",
        "Production environment",
        True,
        created["project"]["projectId"],
    )


def test_ids_are_21_character_nanoids(api: Api) -> None:
    created = api.project()
    assert NANOID.match(created["project"]["projectId"]) and NANOID.match(created["environment"]["environmentId"])


def test_project_defaults(api: Api) -> None:
    project = api.ok("POST", "project.create", name="p-defaults")["project"]
    assert (project["description"], project["env"]) == (None, "")


def test_names_are_not_unique(api: Api) -> None:
    first, second = api.project("twin"), api.project("twin")
    assert first["project"]["projectId"] != second["project"]["projectId"]


def test_all_lists_newest_first(api: Api) -> None:
    older, newer = api.project("older"), api.project("newer")
    ids = [p["projectId"] for p in api.ok("GET", "project.all")]
    assert ids.index(newer["project"]["projectId"]) < ids.index(older["project"]["projectId"])


def test_all_summarises_compose_per_environment(api: Api) -> None:
    created, compose = api.project_with_compose()
    listed = next(p for p in api.ok("GET", "project.all") if p["projectId"] == created["project"]["projectId"])
    assert listed["environments"][0]["compose"] == [
        {"composeId": compose["composeId"], "name": compose["name"], "composeStatus": "idle"}
    ]


def test_one_includes_environments(api: Api) -> None:
    created = api.project()
    one = api.ok("GET", "project.one", projectId=created["project"]["projectId"])
    assert [e["environmentId"] for e in one["environments"]] == [created["environment"]["environmentId"]]


def test_one_unknown_is_404(api: Api) -> None:
    response = api.get("project.one", projectId="unknown")
    assert (response.status_code, response.json()["message"]) == (404, "Project not found")


def test_update_returns_updated_row(api: Api) -> None:
    created = api.project()
    updated = api.ok("POST", "project.update", projectId=created["project"]["projectId"], name="renamed")
    assert updated == created["project"] | {"name": "renamed"}


def test_update_unknown_is_404(api: Api) -> None:
    assert api.post("project.update", projectId="unknown", name="x").status_code == 404


def test_remove_returns_deleted_row(api: Api) -> None:
    created = api.project()
    assert api.ok("POST", "project.remove", projectId=created["project"]["projectId"]) == created["project"]


def test_second_remove_is_404(api: Api) -> None:
    created = api.project()
    api.ok("POST", "project.remove", projectId=created["project"]["projectId"])
    assert api.post("project.remove", projectId=created["project"]["projectId"]).status_code == 404


def test_remove_cascades_to_compose(api: Api) -> None:
    created, compose = api.project_with_compose()
    api.ok("POST", "project.remove", projectId=created["project"]["projectId"])
    assert api.get("compose.one", composeId=compose["composeId"]).status_code == 404


def test_remove_cascades_to_domains(api: Api) -> None:
    created, compose = api.project_with_compose()
    api.ok("POST", "domain.create", host="cascade.example.com", composeId=compose["composeId"], domainType="compose")
    api.ok("POST", "project.remove", projectId=created["project"]["projectId"])
    assert api.ok("GET", "domain.byComposeId", composeId=compose["composeId"]) == []


def test_moved_to_another_organization_is_401(api: Api) -> None:
    created = api.project()
    project_id = created["project"]["projectId"]
    api.ok("POST", "project.update", projectId=project_id, organizationId="someone-elses-org-000")
    response = api.get("project.one", projectId=project_id)
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED")
