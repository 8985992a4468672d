"""`compose.*`: defaults on create, appName suffixes, `update` quirks, `one`/`delete` shapes, cascades."""

from __future__ import annotations

import re

from tests.contract.api import Api

GENERATED_APP_NAME = re.compile(r"^compose-[a-z]+(-[a-z]+){2,}-[a-z0-9]{6}$")  # words may hold a hyphen


def env_id(api: Api) -> str:
    value: str = api.project()["environment"]["environmentId"]
    return value


def test_create_defaults(api: Api) -> None:
    compose = api.compose(env_id(api), composeFile="services: {}")
    defaults = {
        k: compose[k] for k in ("sourceType", "composeType", "env", "composeStatus", "autoDeploy", "triggerType")
    }
    assert defaults == {
        "sourceType": "github",
        "composeType": "docker-compose",
        "env": None,
        "composeStatus": "idle",
        "autoDeploy": True,
        "triggerType": "push",
    }


def test_create_path_and_flags_defaults(api: Api) -> None:
    compose = api.compose(env_id(api))
    keys = ("composePath", "createEnvFile", "command", "suffix", "randomize", "isolatedDeployment", "serviceNetworks")
    assert {k: compose[k] for k in keys} == {
        "composePath": "./docker-compose.yml",
        "createEnvFile": True,
        "command": "",
        "suffix": "",
        "randomize": False,
        "isolatedDeployment": False,
        "serviceNetworks": [],
    }


def test_create_keeps_compose_file(api: Api) -> None:
    assert api.compose(env_id(api), composeFile="services: {}")["composeFile"] == "services: {}"


def test_create_accepts_raw_source_type(api: Api) -> None:
    assert api.compose(env_id(api), sourceType="raw")["sourceType"] == "raw"


def test_create_generates_refresh_token(api: Api) -> None:
    assert api.compose(env_id(api))["refreshToken"]


def test_generated_app_name(api: Api) -> None:
    assert GENERATED_APP_NAME.match(api.compose(env_id(api))["appName"])


def test_given_app_name_gets_random_suffix(api: Api) -> None:
    assert re.match(r"^my-fixed-app-[a-z0-9]{6}$", api.compose(env_id(api), appName="my-fixed-app")["appName"])


def test_given_app_name_is_lower_cased(api: Api) -> None:
    assert api.compose(env_id(api), appName="My.App")["appName"].startswith("my.app-")


def test_same_app_name_twice_does_not_conflict(api: Api) -> None:
    first, second = api.compose(env_id(api), appName="same"), api.compose(env_id(api), appName="same")
    assert first["appName"] != second["appName"]


def test_app_name_regex(api: Api) -> None:
    response = api.post("compose.create", name="x", environmentId=env_id(api), appName="bad name")
    assert response.json()["issues"][0]["message"] == (
        "App name can only contain letters, numbers, dots, underscores and hyphens"
    )


def test_create_in_unknown_environment_is_404(api: Api) -> None:
    response = api.post("compose.create", name="x", environmentId="unknown")
    assert (response.status_code, response.json()["message"]) == (404, "Environment not found")


def test_create_with_a_server_is_refused(api: Api) -> None:
    assert api.post("compose.create", name="x", environmentId=env_id(api), serverId="srv").status_code == 401


def test_update_returns_row(api: Api) -> None:
    compose = api.compose(env_id(api))
    fields = {"sourceType": "raw", "composeFile": "services: {}", "env": "A=1"}
    updated = api.ok("POST", "compose.update", composeId=compose["composeId"], **fields)
    assert updated == compose | fields


def test_update_ignores_app_name(api: Api) -> None:
    compose = api.compose(env_id(api))
    updated = api.ok("POST", "compose.update", composeId=compose["composeId"], appName="other")
    assert updated["appName"] == compose["appName"]


def test_update_unknown_is_200_with_an_empty_body(api: Api) -> None:
    """Issue 15, row 3 (v0.30.2): not a 404, and not even `null`."""
    response = api.post("compose.update", composeId="unknown", name="x")
    assert (response.status_code, response.content) == (200, b"")


def test_update_naming_a_git_provider_that_does_not_exist_is_500_failed_query(api: Api) -> None:
    """Issue 15, row 9 (v0.30.2): the foreign key fails inside drizzle, whose error escapes as a 500; the message
    names the SQL, not the field."""
    compose = api.compose(env_id(api))
    response = api.post("compose.update", composeId=compose["composeId"], githubId="no-such-github-app-00")
    assert response.status_code == 500 and response.json()["message"].startswith('Failed query: update "compose"')
    assert api.ok("GET", "compose.one", composeId=compose["composeId"])["githubId"] is None  # nothing was saved


def test_save_environment(api: Api) -> None:
    compose = api.compose(env_id(api))
    api.ok("POST", "compose.saveEnvironment", composeId=compose["composeId"], env="B=2")
    assert api.ok("GET", "compose.one", composeId=compose["composeId"])["env"] == "B=2"


def test_save_environment_unknown_is_400(api: Api) -> None:
    response = api.post("compose.saveEnvironment", composeId="unknown", env="B=2")
    assert (response.status_code, response.json()["message"]) == (400, "Error adding environment variables")


def test_one_has_relations(api: Api) -> None:
    created, compose = api.project_with_compose()
    one = api.ok("GET", "compose.one", composeId=compose["composeId"])
    assert (one["environment"]["project"], one["hasGitProviderAccess"], one["unauthorizedProvider"]) == (
        created["project"],
        True,
        None,
    )


def test_one_unknown_is_404(api: Api) -> None:
    response = api.get("compose.one", composeId="unknown")
    assert (response.status_code, response.json()["message"]) == (404, "Compose not found")


def test_delete_returns_compose_as_before(api: Api) -> None:
    _, compose = api.project_with_compose()
    domain = api.ok(
        "POST", "domain.create", host="del.example.com", composeId=compose["composeId"], domainType="compose"
    )
    deleted = api.ok("POST", "compose.delete", composeId=compose["composeId"], deleteVolumes=True)
    assert (deleted["domains"], "hasGitProviderAccess" in deleted) == ([domain], False)


def test_second_delete_is_404(api: Api) -> None:
    _, compose = api.project_with_compose()
    api.ok("POST", "compose.delete", composeId=compose["composeId"], deleteVolumes=False)
    assert api.post("compose.delete", composeId=compose["composeId"], deleteVolumes=False).status_code == 404


def test_delete_cascades_domains(api: Api) -> None:
    _, compose = api.project_with_compose()
    domain = api.ok("POST", "domain.create", host="c.example.com", composeId=compose["composeId"], domainType="compose")
    api.ok("POST", "compose.delete", composeId=compose["composeId"], deleteVolumes=False)
    assert api.get("domain.one", domainId=domain["domainId"]).status_code == 404


def test_stop_sets_idle(api: Api, needs_docker: None) -> None:
    _, compose = api.project_with_compose()
    api.ok("POST", "compose.start", composeId=compose["composeId"])
    api.ok("POST", "compose.stop", composeId=compose["composeId"])
    assert api.ok("GET", "compose.one", composeId=compose["composeId"])["composeStatus"] == "idle"


def test_start_sets_done(api: Api, needs_docker: None) -> None:
    _, compose = api.project_with_compose()
    api.ok("POST", "compose.start", composeId=compose["composeId"])
    assert api.ok("GET", "compose.one", composeId=compose["composeId"])["composeStatus"] == "done"


def test_cancel_deployment_is_cloud_only(api: Api) -> None:
    _, compose = api.project_with_compose()
    response = api.post("compose.cancelDeployment", composeId=compose["composeId"])
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Deployment cancellation only available in cloud version",
    )
