"""The REST surface before any procedure runs: auth before routing, routing, content types, body parsing,
headers (`dokploy-observed.md` "REST surface behaviour")."""

from __future__ import annotations

import httpx

from dokploy_local.schemas import check_response
from tests.contract.api import Api, without_dev_stack
from tests.contract.target import Target


def raw(target: Target, method: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, f"{target.url}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]


def owner(target: Target, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"x-api-key": target.key} | (extra or {})


def test_health_needs_no_key(target: Target) -> None:
    response = raw(target, "GET", "/api/health")
    check_response("health", response.status_code, without_dev_stack(response.json()))
    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_missing_key_is_401_with_message_only(target: Target) -> None:
    response = raw(target, "GET", "/api/project.all")
    check_response("project.all", response.status_code, without_dev_stack(response.json()))
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_wrong_key_is_401(target: Target) -> None:
    response = raw(target, "GET", "/api/project.all", headers={"x-api-key": "nope"})
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_bearer_token_is_not_accepted(target: Target) -> None:
    response = raw(target, "GET", "/api/project.all", headers={"Authorization": f"Bearer {target.key}"})
    assert response.status_code == 401


def test_auth_runs_before_routing(target: Target) -> None:
    response = raw(target, "GET", "/api/no.suchProcedure")
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_unknown_procedure_is_404_without_path(target: Target) -> None:
    response = raw(target, "GET", "/api/no.suchProcedure", headers=owner(target))
    check_response(None, response.status_code, without_dev_stack(response.json()))
    expected = {"code": "NOT_FOUND", "httpStatus": 404, "zodError": None}
    assert (response.status_code, response.json()["message"], without_dev_stack(response.json())["data"]) == (
        404,
        "Not found",
        expected,
    )


def test_wrong_method_is_404_not_405(target: Target) -> None:
    response = raw(target, "GET", "/api/project.create", headers=owner(target))
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


def test_post_on_a_query_is_404(target: Target) -> None:
    response = raw(target, "POST", "/api/project.all", headers=owner(target), json={})
    assert response.status_code == 404


def test_paths_match_case_insensitively(target: Target) -> None:
    response = raw(target, "GET", "/api/PROJECT.ALL", headers=owner(target))
    assert response.status_code == 200


def test_trailing_slash_redirects(target: Target) -> None:
    response = raw(target, "GET", "/api/project.all/", headers=owner(target))
    assert (response.status_code, response.headers["location"]) == (308, "/api/project.all")


def test_head_answers_204_after_auth(target: Target) -> None:
    assert raw(target, "HEAD", "/api/project.all", headers=owner(target)).status_code == 204


def test_post_without_content_type_is_415(target: Target) -> None:
    response = raw(target, "POST", "/api/project.create", headers=owner(target))
    check_response("project.create", response.status_code, without_dev_stack(response.json()))
    assert (response.status_code, response.json()["message"]) == (415, "Missing content-type header")


def test_post_with_other_content_type_is_415(target: Target) -> None:
    response = raw(
        target, "POST", "/api/project.create", headers=owner(target, {"content-type": "text/plain"}), content="x"
    )
    # Dokploy's adapter really leaves the closing quote out.
    assert (response.status_code, response.json()["message"]) == (415, 'Unsupported content-type "text/plain')


def test_malformed_json_is_plain_text_400(target: Target) -> None:
    headers = owner(target, {"content-type": "application/json"})
    response = raw(target, "POST", "/api/project.create", headers=headers, content=b"{")
    assert (response.status_code, response.text, "content-type" in response.headers) == (400, "Invalid JSON", False)


def test_malformed_json_is_rejected_before_auth(target: Target) -> None:
    response = raw(target, "POST", "/api/project.create", headers={"content-type": "application/json"}, content=b"{")
    assert response.status_code == 400


def test_body_over_one_megabyte_is_413(target: Target) -> None:
    body = b'{"name":"' + b"x" * (1024 * 1024) + b'"}'
    headers = owner(target, {"content-type": "application/json"})
    response = raw(target, "POST", "/api/project.create", headers=headers, content=body)
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


def test_security_headers_on_every_answer(target: Target) -> None:
    response = raw(target, "GET", "/api/project.all")
    headers = {k: response.headers.get(k) for k in ("x-frame-options", "x-content-type-options")}
    assert (headers, response.headers["content-security-policy"]) == (
        {"x-frame-options": "DENY", "x-content-type-options": "nosniff"},
        "frame-ancestors 'none'",
    )


def test_procedure_answers_are_json(target: Target) -> None:
    response = raw(target, "GET", "/api/project.all", headers=owner(target))
    assert response.headers["content-type"] == "application/json"


def test_version(api: Api) -> None:
    assert api.ok("GET", "settings.getDokployVersion") == "v0.30.2"
