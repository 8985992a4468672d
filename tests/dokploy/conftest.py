from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import respx
import stamina

from dokploy_local.testing import LocalDokploy
from tests.dokploy.node_dotenv import NodeDotenv
from tests.dokploy.openapi_check import RequestLog, SentRequest
from tests.support import dokploy as shared_fixtures

dokploy_server = shared_fixtures.dokploy_server  # the project's local-server fixture, used by `dokploy`

# Every request any test in this folder makes the client send, for the OpenAPI check (test_zz_openapi.py).
SUITE_LOG = RequestLog()

URL = "http://dokploy.test"
KEY = "test-key-0123456789abcdef"


def sent_from_httpx(request: httpx.Request) -> SentRequest:
    parts = urlsplit(str(request.url))
    body = json.loads(request.content) if request.content else None
    return SentRequest(
        method=request.method,
        procedure=parts.path.removeprefix("/api/"),
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        body=body,
        content_type=request.headers.get("content-type"),
    )


@pytest.fixture(scope="session")
def node_dotenv() -> Iterator[NodeDotenv]:
    oracle = NodeDotenv()
    yield oracle
    oracle.close()


@pytest.fixture
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=5, cap=True):
        yield


@pytest.fixture
def api(no_backoff: None) -> Iterator[respx.MockRouter]:
    """respx at URL; the version probe answers v0.30.2 unless a test overrides it. Requests go to SUITE_LOG."""
    with respx.mock(base_url=f"{URL}/api", assert_all_called=False) as router:
        router.get("/settings.getDokployVersion", name="version").respond(json="v0.30.2")
        yield router
        for call in router.calls:
            SUITE_LOG.add(sent_from_httpx(call.request))


def sent_from_server_log(entry: dict[str, object]) -> SentRequest:
    """The local server logs the raw input: the query dict of a GET, the JSON body of a POST."""
    raw = entry.get("input") or {}
    assert isinstance(raw, dict)
    method = str(entry["method"])
    return SentRequest(
        method=method,
        procedure=str(entry["path"]).removeprefix("/api/"),
        query=tuple((k, str(v)) for k, v in raw.items()) if method == "GET" else (),
        body=raw if method == "POST" else None,
        # The log has no headers; a POST without application/json would have been answered 415.
        content_type="application/json" if entry.get("status") != 415 else "other",
    )


def check_server_requests(server: LocalDokploy, since: int = 0) -> int:
    """Add what reached the server to SUITE_LOG and fail on any request the document would reject."""
    entries = server.requests(since)
    before = len(SUITE_LOG.invalid)
    for entry in entries:
        if entry.get("input") is None and entry.get("status") != 415:
            continue  # a fault was injected before the server read the request: nothing to check
        SUITE_LOG.add(sent_from_server_log(entry))
    assert SUITE_LOG.invalid[before:] == [], "requests not valid against openapi.json"
    return int(entries[-1]["seq"]) if entries else since


@pytest.fixture
def dokploy(request: pytest.FixtureRequest) -> Iterator[LocalDokploy]:
    """The shared fresh local Dokploy server; what reached it is checked against the OpenAPI document."""
    server: LocalDokploy = request.getfixturevalue("dokploy_server")
    yield server
    check_server_requests(server)


@pytest.fixture(autouse=True)
def _forget_accepted_versions() -> Iterator[None]:
    """Each test meets its server fresh: the client remembers accepted versions per process."""
    from components.dokploy import client as client_module

    client_module._ACCEPTED_VERSIONS.clear()
    client_module._KEYS_THAT_WORKED.clear()
    yield
    client_module._ACCEPTED_VERSIONS.clear()
    client_module._KEYS_THAT_WORKED.clear()
