"""The REST surface before any procedure runs: auth before routing, routing, content types, body parsing,
headers (`dokploy-observed.md` "REST surface behaviour")."""

from __future__ import annotations

import httpx

from dokploy_local.schemas import check_response
from dokploy_local.testing import LocalDokploy
from tests.dokploy_local.api import Api


def raw(server: LocalDokploy, method: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, f"{server.url}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]


def owner(server: LocalDokploy, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"x-api-key": server.api_key} | (extra or {})


def test_health_needs_no_key(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/health")
    check_response("health", response.status_code, response.json())
    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_missing_key_is_401_with_message_only(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/project.all")
    check_response("project.all", response.status_code, response.json())
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_wrong_key_is_401(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/project.all", headers={"x-api-key": "nope"})
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_bearer_token_is_not_accepted(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/project.all", headers={"Authorization": f"Bearer {server.api_key}"})
    assert response.status_code == 401


def test_auth_runs_before_routing(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/no.suchProcedure")
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_unknown_procedure_is_404_without_path(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/no.suchProcedure", headers=owner(server))
    check_response(None, response.status_code, response.json())
    expected = {"code": "NOT_FOUND", "httpStatus": 404, "zodError": None}
    assert (response.status_code, response.json()["message"], response.json()["data"]) == (404, "Not found", expected)


def test_wrong_method_is_404_not_405(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/project.create", headers=owner(server))
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


def test_post_on_a_query_is_404(server: LocalDokploy) -> None:
    response = raw(server, "POST", "/api/project.all", headers=owner(server), json={})
    assert response.status_code == 404


def test_paths_match_case_insensitively(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/PROJECT.ALL", headers=owner(server))
    assert response.status_code == 200


def test_trailing_slash_redirects(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/project.all/", headers=owner(server))
    assert (response.status_code, response.headers["location"]) == (308, "/api/project.all")


def test_head_answers_204_after_auth(server: LocalDokploy) -> None:
    assert raw(server, "HEAD", "/api/project.all", headers=owner(server)).status_code == 204


def test_post_without_content_type_is_415(server: LocalDokploy) -> None:
    response = raw(server, "POST", "/api/project.create", headers=owner(server))
    check_response("project.create", response.status_code, response.json())
    assert (response.status_code, response.json()["message"]) == (415, "Missing content-type header")


def test_post_with_other_content_type_is_415(server: LocalDokploy) -> None:
    response = raw(
        server, "POST", "/api/project.create", headers=owner(server, {"content-type": "text/plain"}), content="x"
    )
    # Dokploy's adapter really leaves the closing quote out.
    assert (response.status_code, response.json()["message"]) == (415, 'Unsupported content-type "text/plain')


def test_malformed_json_is_plain_text_400(server: LocalDokploy) -> None:
    headers = owner(server, {"content-type": "application/json"})
    response = raw(server, "POST", "/api/project.create", headers=headers, content=b"{")
    assert (response.status_code, response.text, "content-type" in response.headers) == (400, "Invalid JSON", False)


def test_malformed_json_is_rejected_before_auth(server: LocalDokploy) -> None:
    response = raw(server, "POST", "/api/project.create", headers={"content-type": "application/json"}, content=b"{")
    assert response.status_code == 400


def test_body_over_one_megabyte_is_413(server: LocalDokploy) -> None:
    body = b'{"name":"' + b"x" * (1024 * 1024) + b'"}'
    headers = owner(server, {"content-type": "application/json"})
    response = raw(server, "POST", "/api/project.create", headers=headers, content=body)
    assert (response.status_code, response.text) == (413, "Body exceeded 1mb limit")


def test_json_array_body_is_treated_as_empty_object(api: Api) -> None:
    response = api.post("project.create", ["x"])
    assert (response.status_code, response.json()["data"]["zodError"]["fieldErrors"]) == (
        400,
        {"name": ["Invalid input: expected string, received undefined"]},
    )


def test_bare_number_body_is_treated_as_empty_object(api: Api) -> None:
    response = api.post("project.create", 5)
    assert response.status_code == 400


def test_security_headers_on_every_answer(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/project.all")
    headers = {k: response.headers.get(k) for k in ("x-frame-options", "x-content-type-options")}
    assert (headers, response.headers["content-security-policy"]) == (
        {"x-frame-options": "DENY", "x-content-type-options": "nosniff"},
        "frame-ancestors 'none'",
    )


def test_procedure_answers_are_json(server: LocalDokploy) -> None:
    response = raw(server, "GET", "/api/project.all", headers=owner(server))
    assert response.headers["content-type"] == "application/json"


def test_version(api: Api) -> None:
    assert api.ok("GET", "settings.getDokployVersion") == "v0.30.2"
