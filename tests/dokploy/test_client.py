"""The httpx client against respx: transport, retries only where safe, typed errors, versions, redaction."""

from __future__ import annotations

import httpx
import pytest
import respx

from components.dokploy.client import ClientSettings, DokployClient, Redactor, resolve_settings
from components.dokploy.errors import (
    DokployAuthError,
    DokployBadRequestError,
    DokployConfigError,
    DokployKeyExhaustedError,
    DokployNotFoundError,
    DokployServerError,
    DokployTransportError,
    UncertainWriteError,
    UnsupportedVersionError,
)
from tests.dokploy.conftest import KEY, URL


def client(**kw: object) -> DokployClient:
    return DokployClient(ClientSettings(url=URL, api_key=KEY), **kw)  # type: ignore[arg-type]


def test_queries_are_gets_with_query_params_and_mutations_are_json_posts(api: respx.MockRouter) -> None:
    one = api.get("/project.one").respond(json={"projectId": "p1"})
    create = api.post("/project.create").respond(json={"project": {"projectId": "p1"}, "environment": {}})
    with client() as c:
        assert c.query("project.one", projectId="p1") == {"projectId": "p1"}
        c.mutate("project.create", {"name": "n", "description": None}, repeat_safe=False)
    req = one.calls.last.request
    assert req.url.params["projectId"] == "p1" and req.headers["x-api-key"] == KEY and not req.content
    post = create.calls.last.request
    assert post.headers["content-type"] == "application/json"
    assert post.read() == b'{"name":"n","description":null}'
    assert c.version == "v0.30.2"


def test_version_is_read_once_per_server_and_key(api: respx.MockRouter) -> None:
    api.get("/project.all").respond(json=[])
    with client() as c:
        c.query("project.all")
        c.query("project.all")
    with client() as c:  # a provider builds one client per call: the accepted version is remembered
        c.query("project.all")
    assert api.routes["version"].call_count == 1
    with DokployClient(ClientSettings(url=URL, api_key=KEY + "-other")) as c:  # another key is checked again
        c.query("project.all")
    assert api.routes["version"].call_count == 2


@pytest.mark.parametrize(
    ("raw", "needle"),
    [("v0.24.12", "v0.25.0"), ("v0.28.0", "slash paths"), ("canary", "not vX.Y.Z"), ("0.9.1", "v0.25.0")],
)
def test_unsupported_versions_are_refused_with_a_reason(api: respx.MockRouter, raw: str, needle: str) -> None:
    api.routes["version"].respond(json=raw)
    touched = api.post("/project.create").respond(json={})
    with client() as c, pytest.raises(UnsupportedVersionError, match=needle):
        c.mutate("project.create", {"name": "x"}, repeat_safe=False)
    assert not touched.called  # refused before any change


def test_401_says_wrong_expired_or_rate_limited_and_never_shows_the_key(api: respx.MockRouter) -> None:
    api.routes["version"].respond(401, json={"message": "Unauthorized"})
    with client() as c, pytest.raises(DokployAuthError) as info:
        c.query("project.all")
    text = str(info.value)
    assert "wrong, expired or rate-limited" in text and KEY not in text
    assert api.routes["version"].call_count == 1 and info.value.status == 401


def test_401_after_a_success_names_the_api_key_rate_limit_and_is_not_retried(api: respx.MockRouter) -> None:
    listed = api.get("/project.all").respond(401, json={"message": "Unauthorized"})
    with client() as c, pytest.raises(DokployKeyExhaustedError) as info:
        c.query("project.all")  # the version read just worked with this key
    text = str(info.value)
    assert "10 requests per 24" in text and "rateLimitEnabled: false" in text and "Settings > Profile" in text
    assert KEY not in text and "\n" not in text and listed.call_count == 1


def test_reads_retry_on_5xx_and_transport_errors(api: respx.MockRouter) -> None:
    route = api.get("/compose.one")
    route.side_effect = [
        httpx.Response(503, text="Service Unavailable"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(200, json={"composeId": "c1"}),
    ]
    with client() as c:
        assert c.query("compose.one", composeId="c1") == {"composeId": "c1"}
    assert route.call_count == 4


def test_a_create_is_repeated_only_when_it_never_left(api: respx.MockRouter) -> None:
    route = api.post("/compose.create")
    route.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, json={"composeId": "c1"})]
    with client() as c:
        assert c.mutate("compose.create", {"name": "a", "environmentId": "e"}, repeat_safe=False)["composeId"] == "c1"
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500, json={"message": "boom", "code": "INTERNAL_SERVER_ERROR"}), httpx.ReadTimeout("t"),
     httpx.RemoteProtocolError("closed without answer")],
)  # fmt: skip
def test_a_create_with_an_unknown_outcome_is_not_repeated(
    api: respx.MockRouter, failure: httpx.Response | Exception
) -> None:
    route = api.post("/compose.deploy")
    route.side_effect = [failure, httpx.Response(200, json={"success": True})]
    with client() as c, pytest.raises(UncertainWriteError, match="may have been applied"):
        c.mutate("compose.deploy", {"composeId": "c1"}, repeat_safe=False)
    assert route.call_count == 1


def test_idempotent_writes_retry_and_429_is_always_retried(api: respx.MockRouter) -> None:
    update = api.post("/compose.update")
    update.side_effect = [
        httpx.RemoteProtocolError("x"),
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(200, json={}),
    ]
    create = api.post("/project.create")
    create.side_effect = [
        httpx.Response(429, headers={"retry-after": "0"}, text="Too Many Requests"),
        httpx.Response(200, json={"project": {"projectId": "p"}, "environment": {}}),
    ]
    with client() as c:
        c.mutate("compose.update", {"composeId": "c1", "name": "n"}, repeat_safe=True)
        c.mutate("project.create", {"name": "n"}, repeat_safe=False)
    assert update.call_count == 3 and create.call_count == 2


def test_gives_up_after_the_attempts(api: respx.MockRouter) -> None:
    route = api.get("/project.all").respond(500, json={"message": "db down", "code": "INTERNAL_SERVER_ERROR"})
    with client() as c, pytest.raises(DokployServerError, match="db down"):
        c.query("project.all")
    assert route.call_count == 5


def test_connection_refused_is_a_transport_error_naming_the_url(no_backoff: None) -> None:
    settings = ClientSettings(url="http://127.0.0.1:9", api_key=KEY)
    with (
        DokployClient(settings) as c,
        pytest.raises(DokployTransportError, match=r"cannot connect to http://127\.0") as info,
    ):
        c.query("project.all")
    assert not info.value.reached_server


def test_typed_errors_and_empty_bodies(api: respx.MockRouter) -> None:
    api.get("/compose.one").respond(404, json={"message": "Compose not found", "code": "NOT_FOUND"})
    api.post("/environment.update").respond(400, text="Invalid JSON")
    api.post("/compose.delete").respond(200, content=b"")
    with client() as c:
        with pytest.raises(DokployNotFoundError, match="Compose not found"):
            c.query("compose.one", composeId="nope")
        with pytest.raises(DokployBadRequestError, match="Invalid JSON"):
            c.mutate("environment.update", {"environmentId": "e"}, repeat_safe=True)
        assert c.mutate("compose.delete", {"composeId": "c", "deleteVolumes": False}, repeat_safe=True) is None


def test_secrets_echoed_by_the_server_are_scrubbed_in_every_form(api: respx.MockRouter) -> None:
    secret = "hunter2/with spaces&more"
    api.post("/compose.update").respond(
        400,
        json={
            "message": f"bad env {secret} {secret.replace(' ', '%20').replace('/', '%2F').replace('&', '%26')} {KEY}"
        },
    )
    with client(secrets=[secret]) as c, pytest.raises(DokployBadRequestError) as info:
        c.mutate("compose.update", {"composeId": "c", "env": f"A={secret}"}, repeat_safe=True)
    assert secret not in str(info.value) and KEY not in str(info.value) and "***" in str(info.value)


def test_redactor_forms() -> None:
    r = Redactor(['p@ss w"rd', "ab"])
    assert r('x p@ss w"rd y p%40ss%20w%22rd z p%40ss+w%22rd j p@ss w\\"rd ab') == "x *** y *** z *** j *** ab"


def test_settings_come_from_config_then_environment() -> None:
    env = {"DOKPLOY_URL": "http://env:3000/", "DOKPLOY_API_KEY": "envkey", "DOKPLOY_SERVER_ID": "srv"}
    s = resolve_settings({}, env)
    assert (s.url, s.api_key, s.server_id, s.api_base) == ("http://env:3000", "envkey", "srv", "http://env:3000/api")
    s = resolve_settings({"dokploy:url": "https://cfg", "dokploy:apiKey": "cfgkey"}, env)
    assert (s.url, s.api_key) == ("https://cfg", "cfgkey")
    assert "cfgkey" not in repr(s)
    with pytest.raises(DokployConfigError, match="dokploy:apiKey"):
        resolve_settings({"dokploy:url": "https://cfg"}, {})
    with pytest.raises(DokployConfigError, match="not an http"):
        resolve_settings({"dokploy:url": "ftp://x", "dokploy:apiKey": "k"}, {})
