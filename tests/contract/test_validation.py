"""Input validation: Dokploy's coercion (numbers via JS Number, booleans via JS truthiness, in bodies too),
dropped unknown keys, and zod v4's error shapes (`dokploy-observed.md` "Input coercion")."""

from __future__ import annotations

from tests.contract.api import Api, without_dev_stack


def environment_id(api: Api) -> str:
    env_id: str = api.project()["environment"]["environmentId"]
    return env_id


def test_numeric_string_becomes_number(api: Api) -> None:
    _, compose = api.project_with_compose()
    domain = api.ok("POST", "domain.create", host="a.example.com", port="8080", composeId=compose["composeId"])
    assert domain["port"] == 8080


def test_non_numeric_string_is_nan_error(api: Api) -> None:
    response = api.post("domain.create", host="a.example.com", port="abc")
    assert response.json()["issues"] == [
        {
            "expected": "number",
            "code": "invalid_type",
            "received": "NaN",
            "message": "Invalid input: expected number, received NaN",
            "path": ["port"],
        }
    ]


def test_string_false_is_true(api: Api) -> None:
    compose_id = api.project_with_compose()[1]["composeId"]
    domain = api.ok("POST", "domain.create", host="b.example.com", https="false", composeId=compose_id)
    assert domain["https"] is True


def test_empty_string_boolean_is_false(api: Api) -> None:
    compose_id = api.project_with_compose()[1]["composeId"]
    domain = api.ok("POST", "domain.create", host="c.example.com", https="", composeId=compose_id)
    assert domain["https"] is False


def test_missing_delete_volumes_is_accepted(api: Api) -> None:
    _, compose = api.project_with_compose()
    assert api.post("compose.delete", composeId=compose["composeId"]).status_code == 200


def test_unknown_fields_are_dropped(api: Api) -> None:
    project_id = api.project()["project"]["projectId"]
    created = api.ok(
        "POST", "environment.create", name="extra", projectId=project_id, color="red", environmentId="chosen-000"
    )
    assert ("color" in created, created["environmentId"] == "chosen-000") == (False, False)


def test_validation_error_shape(api: Api) -> None:
    body = without_dev_stack(api.post("project.create", {}).json())
    assert body == {
        "message": "Input validation failed",
        "code": "BAD_REQUEST",
        "data": {
            "code": "BAD_REQUEST",
            "httpStatus": 400,
            "path": "project.create",
            "zodError": {
                "formErrors": [],
                "fieldErrors": {"name": ["Invalid input: expected string, received undefined"]},
            },
        },
        "issues": [
            {
                "expected": "string",
                "code": "invalid_type",
                "message": "Invalid input: expected string, received undefined",
                "path": ["name"],
            }
        ],
    }


def test_empty_name_is_too_small(api: Api) -> None:
    issue = api.post("project.create", name="").json()["issues"][0]
    assert (issue["code"], issue["message"]) == ("too_small", "Too small: expected string to have >=1 characters")


def test_number_for_string_is_rejected(api: Api) -> None:
    issue = api.post("project.create", name=5).json()["issues"][0]
    assert issue["message"] == "Invalid input: expected string, received number"


def test_enum_with_one_value_message(api: Api) -> None:
    body = {
        "registryName": "r",
        "username": "u",
        "password": "p",
        "registryUrl": "ghcr.io",
        "registryType": "selfHosted",
        "imagePrefix": None,
    }
    issue = api.post("registry.create", body).json()["issues"][0]
    assert (issue["code"], issue["message"]) == ("invalid_value", 'Invalid input: expected "cloud"')


def test_enum_with_many_values_message(api: Api) -> None:
    issue = api.post("compose.create", name="x", environmentId="e", composeType="swarm").json()["issues"][0]
    assert issue["message"] == 'Invalid option: expected one of "docker-compose"|"stack"'


def test_null_description_rejected_by_environment_update(api: Api) -> None:
    response = api.post("environment.update", environmentId=environment_id(api), description=None)
    assert (response.status_code, response.json()["message"]) == (400, "Input validation failed")


def test_query_parameter_missing_is_400(api: Api) -> None:
    response = api.get("compose.one")
    assert (response.status_code, response.json()["issues"][0]["path"]) == (400, ["composeId"])


def test_port_above_65535_is_refused_with_the_schemas_own_message(api: Api) -> None:
    """Issue 15, row 6 (v0.30.2): `db/validations/domain.ts` sets the message, not zod's default."""
    response = api.post("domain.create", host="d.example.com", port=70000)
    assert (response.status_code, response.json()["issues"][0]["message"]) == (400, "Port must be 65535 or below")


def test_multiple_issues_follow_schema_order(api: Api) -> None:
    issues = api.post("compose.create", {}).json()["issues"]
    assert [i["path"] for i in issues] == [["name"], ["environmentId"]]
