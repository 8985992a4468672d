"""`domain.*`: loose validation, no host uniqueness, global `uniqueConfigKey`, `byComposeId` quirks."""

from __future__ import annotations

from typing import Any

from tests.contract.api import Api


def compose_id(api: Api) -> str:
    value: str = api.project_with_compose()[1]["composeId"]
    return value


def make(api: Api, cid: str, host: str = "app.example.com", **fields: Any) -> dict[str, Any]:
    domain: dict[str, Any] = api.ok(
        "POST", "domain.create", host=host, composeId=cid, domainType="compose", serviceName="web", **fields
    )
    return domain


def test_create_defaults(api: Api) -> None:
    domain = make(api, compose_id(api))
    keys = ("https", "port", "path", "certificateType", "internalPath", "stripPath", "middlewares", "enabled")
    assert {k: domain[k] for k in keys} == {
        "https": False,
        "port": 3000,
        "path": "/",
        "certificateType": "none",
        "internalPath": "/",
        "stripPath": False,
        "middlewares": [],
        "enabled": True,
    }


def test_duplicate_host_gets_new_unique_config_key(api: Api) -> None:
    cid = compose_id(api)
    first, second = make(api, cid, "dup.example.com"), make(api, cid, "dup.example.com")
    assert second["uniqueConfigKey"] > first["uniqueConfigKey"]


def test_service_name_is_optional(api: Api) -> None:
    response = api.post("domain.create", host="nosvc.example.com", composeId=compose_id(api), domainType="compose")
    assert response.status_code == 200


def test_orphan_domain_is_accepted_as_application_type(api: Api) -> None:
    orphan = api.ok("POST", "domain.create", host="orphan.example.com")
    api.ok("POST", "domain.delete", domainId=orphan["domainId"])  # outside the scratch project: remove it now
    assert orphan["domainType"] == "application"


def test_invalid_host_is_rejected(api: Api) -> None:
    response = api.post("domain.create", host="bad_host.example.com", composeId=compose_id(api))
    assert response.json()["issues"][0]["message"].startswith("Invalid domain name.")


def test_host_with_leading_or_trailing_spaces_is_refused(api: Api) -> None:
    """Issue 15, row 5 (v0.30.2): refused, not trimmed (the refine runs before the transform)."""
    response = api.post("domain.create", host=" trim.example.com ", composeId=compose_id(api), domainType="compose")
    assert response.status_code == 400
    assert response.json()["issues"][0]["message"] == "Domain name cannot have leading or trailing spaces"


def test_unknown_compose_is_400_failed_query(api: Api) -> None:
    """Issue 15, row 4 (v0.30.2): the owner's access check does not look the compose up; the insert fails on the
    foreign key and the router re-wraps drizzle's message as 400."""
    response = api.post("domain.create", host="x.example.com", composeId="unknown", domainType="compose")
    assert response.status_code == 400
    assert response.json()["message"].startswith('Failed query: insert into "domain"')


def test_unknown_compose_without_type_is_400_failed_query(api: Api) -> None:
    response = api.post("domain.create", host="x.example.com", composeId="unknown")
    assert (response.status_code, response.json()["message"].startswith("Failed query: insert")) == (400, True)


def test_explicit_null_port_is_stored(api: Api) -> None:
    assert make(api, compose_id(api), port=None)["port"] is None


def test_by_compose_adds_compose_summary(api: Api) -> None:
    _, compose = api.project_with_compose()
    make(api, compose["composeId"])
    listed = api.ok("GET", "domain.byComposeId", composeId=compose["composeId"])
    assert [d["compose"] for d in listed] == [
        {"composeId": compose["composeId"], "appName": compose["appName"], "name": compose["name"]}
    ]


def test_by_unknown_compose_is_empty(api: Api) -> None:
    assert api.ok("GET", "domain.byComposeId", composeId="unknown") == []


def test_one_returns_row_with_its_application(api: Api) -> None:
    """Issue 15, row 7 (v0.30.2): `domain.one` carries the `application` relation (null for a compose's)."""
    domain = make(api, compose_id(api))
    assert api.ok("GET", "domain.one", domainId=domain["domainId"]) == domain | {"application": None}


def test_one_unknown_is_404(api: Api) -> None:
    response = api.get("domain.one", domainId="unknown")
    assert (response.status_code, response.json()["message"]) == (404, "Domain not found")


def test_update_needs_host(api: Api) -> None:
    domain = make(api, compose_id(api))
    assert api.post("domain.update", domainId=domain["domainId"], port=80).status_code == 400


def test_update_returns_row(api: Api) -> None:
    domain = make(api, compose_id(api))
    updated = api.ok("POST", "domain.update", domainId=domain["domainId"], host="new.example.com", https=True)
    assert updated == domain | {"host": "new.example.com", "https": True}


def test_delete_returns_row_then_404(api: Api) -> None:
    domain = make(api, compose_id(api))
    deleted = api.ok("POST", "domain.delete", domainId=domain["domainId"])
    assert (deleted, api.post("domain.delete", domainId=domain["domainId"]).status_code) == (domain, 404)
