"""`registry.*`: passwords in `create`/`all` but not `one`, `update` answers `true`, `cloud` only, and docker
login failures (a knob: login is not run here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dokploy_local.testing import LocalDokploy
from tests.contract.api import Api
from tests.contract.target import Target


@pytest.fixture(scope="module")
def api(target: Target) -> Iterator[Api]:
    """The imitation only: registries belong to the organisation, outside any project (the suite would touch
    more than its scratch project), and a real `registry.create` runs `docker login` against the registry."""
    if target.imitation is None:
        pytest.skip("registries are organisation-wide (outside the scratch project) and need `docker login`")
    client = Api(target.url, target.key)
    yield client
    client.close()


BODY = {
    "registryName": "ghcr",
    "username": "bot",
    "password": "s3cret",
    "registryUrl": "ghcr.io",
    "registryType": "cloud",
    "imagePrefix": None,
}


def make(api: Api, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = api.ok("POST", "registry.create", BODY | fields)
    return row


def test_create_includes_password(api: Api) -> None:
    assert make(api)["password"] == "s3cret"


def test_username_is_trimmed(api: Api) -> None:
    assert make(api, username="  bot ")["username"] == "bot"


def test_image_prefix_key_is_required(api: Api) -> None:
    body = {k: v for k, v in BODY.items() if k != "imagePrefix"}
    assert api.post("registry.create", body).json()["issues"][0]["path"] == ["imagePrefix"]


def test_registry_url_must_be_a_host(api: Api) -> None:
    assert api.post("registry.create", BODY | {"registryUrl": "https://ghcr.io/x"}).status_code == 400


def test_all_includes_passwords(api: Api) -> None:
    row = make(api)
    assert row in api.ok("GET", "registry.all")


def test_one_leaves_password_out(api: Api) -> None:
    row = make(api)
    assert api.ok("GET", "registry.one", registryId=row["registryId"]) == {
        k: v for k, v in row.items() if k != "password"
    }


def test_one_unknown_is_404(api: Api) -> None:
    response = api.get("registry.one", registryId="unknown")
    assert (response.status_code, response.json()["message"]) == (404, "Registry not found")


def test_names_are_not_unique(api: Api) -> None:
    assert make(api)["registryId"] != make(api)["registryId"]


def test_update_answers_true_and_saves(api: Api) -> None:
    row = make(api)
    answer = api.ok("POST", "registry.update", registryId=row["registryId"], registryName="renamed")
    assert (answer, api.ok("GET", "registry.one", registryId=row["registryId"])["registryName"]) == (True, "renamed")


def test_remove_returns_row_then_404(api: Api) -> None:
    row = make(api)
    removed = api.ok("POST", "registry.remove", registryId=row["registryId"])
    assert (removed, api.post("registry.remove", registryId=row["registryId"]).status_code) == (row, 404)


def test_test_registry_answers_true(api: Api) -> None:
    body = {k: BODY[k] for k in ("username", "password", "registryUrl", "registryType")}
    assert api.ok("POST", "registry.testRegistry", body) is True


def test_failed_login_is_400_with_redacted_stderr(dokploy_server: LocalDokploy) -> None:
    dokploy_server.set_knobs(registry_login_error="Error response from daemon: login p failed for bot")
    response = Api.of(dokploy_server).post("registry.create", BODY | {"password": "p"})
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Error res***onse from daemon: login *** failed for bot",
    )


def test_failed_login_stores_nothing(dokploy_server: LocalDokploy) -> None:
    dokploy_server.set_knobs(registry_login_error="denied")
    Api.of(dokploy_server).post("registry.create", BODY)
    assert dokploy_server.count_objects()["registries"] == 0


def test_failed_login_on_update_still_saves(dokploy_server: LocalDokploy) -> None:
    api = Api.of(dokploy_server)
    row = make(api)
    dokploy_server.set_knobs(registry_login_error="denied")
    response = api.post("registry.update", registryId=row["registryId"], registryName="saved")
    saved = api.ok("GET", "registry.one", registryId=row["registryId"])["registryName"]
    assert (response.status_code, saved) == (400, "saved")
