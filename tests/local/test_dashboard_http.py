"""The dashboard over plain HTTP (no browser): the key in front of it, masking, escaping, read-only.

A fresh local Dokploy server per test module, filled through its API the way the provider fills it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dokploy_local import dashboard
from dokploy_local.dashboard_masking import MASK
from dokploy_local.testing import LocalDokploy, running_server
from tests.support.leaks import assert_no_leak

TOKEN = "synthetic-vault-token-for-the-masking-test-0123456789"  # not a real token, only its variable name
DB_PASSWORD = "s3cr3t-db-password-value"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDokploy]:
    with running_server(tmp_path_factory.mktemp("dokploy"), knobs={"deploy_duration_ms": 50}) as running:
        yield running


def _api(server: LocalDokploy, procedure: str, body: dict[str, Any]) -> Any:
    r = httpx.post(f"{server.url}/api/{procedure}", json=body, headers={"x-api-key": server.api_key})
    r.raise_for_status()
    return r.json() if r.content else None


@pytest.fixture(scope="module")
def compose(server: LocalDokploy) -> dict[str, Any]:
    project = _api(server, "project.create", {"name": "finance_report", "description": "shared"})
    env_id = project["environment"]["environmentId"]
    created = _api(server, "compose.create", {"name": "<b>app</b>", "environmentId": env_id, "composeType": "stack"})
    cid = created["composeId"]
    compose_file = (
        "services:\n  backend:\n    image: ghcr.io/x/backend:local\n    environment:\n"
        f"      POSTGRES_PASSWORD: {DB_PASSWORD}\n      DATABASE_URL: postgresql://app:{DB_PASSWORD}@db/app\n"
        "      VAULT_APP_TOKEN: ${VAULT_APP_TOKEN}\n      LOG_LEVEL: info\n"
    )
    _api(server, "compose.update", {"composeId": cid, "composeFile": compose_file, "sourceType": "raw"})
    _api(server, "compose.saveEnvironment", {"composeId": cid, "env": f'VAULT_APP_TOKEN="{TOKEN}"\nLOG_LEVEL=info'})
    host = "report-local.localhost.localdomain"
    _api(server, "domain.create", {"host": host, "composeId": cid, "serviceName": "backend", "port": 8000,
                                   "domainType": "compose", "path": "/api"})  # fmt: skip
    _api(server, "compose.deploy", {"composeId": cid, "title": "first"})
    for _ in range(100):
        deployments = httpx.get(
            f"{server.url}/api/deployment.allByCompose", params={"composeId": cid},
            headers={"x-api-key": server.api_key},
        ).json()  # fmt: skip
        if deployments and deployments[0]["status"] == "done":
            break
        time.sleep(0.05)
    return {"id": cid, "deployment": deployments[0]["deploymentId"], "host": host}


def _logged_in(server: LocalDokploy) -> httpx.Client:
    client = httpx.Client(base_url=server.url)
    r = client.post("/login", data={"key": server.api_key, "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    return client


def test_pages_need_the_owner_key(server: LocalDokploy, compose: dict[str, Any]) -> None:
    anonymous = httpx.Client(base_url=server.url)
    for path in ("/", f"/compose/{compose['id']}", "/requests"):
        r = anonymous.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert anonymous.get("/login").status_code == 200
    wrong = anonymous.post("/login", data={"key": "not-the-key"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert "not this server&#x27;s owner API key" in wrong.text
    # a forged or expired session is no session
    for value in ("1.abc", f"{int(time.time()) + 3600}.{'0' * 64}", dashboard.session_cookie(server.api_key, 0)):
        r = httpx.get(f"{server.url}/", cookies={dashboard.COOKIE: value})
        assert r.status_code == 303, value
    assert httpx.get(f"{server.url}/", headers={"x-api-key": server.api_key}).status_code == 200


def test_the_session_cookie_is_not_the_key_and_is_strict(server: LocalDokploy) -> None:
    r = httpx.post(f"{server.url}/login", data={"key": server.api_key})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert_no_leak(cookie, [server.api_key], "the session cookie")


def test_login_only_sends_the_browser_to_our_own_pages(server: LocalDokploy) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/api/project.all", "/__local/knobs"):
        r = httpx.post(f"{server.url}/login", data={"key": server.api_key, "next": target})
        assert r.headers["location"] == "/", target


def test_overview_shows_compose_status_latest_deployment_domain(server: LocalDokploy, compose: dict[str, Any]) -> None:
    page = _logged_in(server).get("/").text
    row = page.split(f'data-compose-id="{compose["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-deployment-id="{compose["deployment"]}"' in row
    assert 'data-status="done"' in row
    assert compose["host"] + "/api" in row
    assert "finance_report" in page and "environment production" in page
    assert "deployments are simulated" in page and "No container runs" in page


def test_compose_page_masks_secrets_and_escapes_names(server: LocalDokploy, compose: dict[str, Any]) -> None:
    page = _logged_in(server).get(f"/compose/{compose['id']}").text
    assert_no_leak(page, [TOKEN, DB_PASSWORD], "the compose page")
    assert "<b>app</b>" not in page and "&lt;b&gt;app&lt;/b&gt;" in page
    assert "VAULT_APP_TOKEN: ${VAULT_APP_TOKEN}" in page  # references stay readable
    assert "LOG_LEVEL: info" in page and "ghcr.io/x/backend:local" in page
    assert page.count(MASK) >= 3  # the password twice (value, URL) and the env token
    assert f'data-deployment-id="{compose["deployment"]}"' in page
    assert "simulated, no container is run" in page and "finished: done" in page
    assert compose["host"] in page


def test_request_log_shows_calls_but_not_their_inputs(server: LocalDokploy, compose: dict[str, Any]) -> None:
    page = _logged_in(server).get("/requests").text
    assert "compose.saveEnvironment" in page and "compose.deploy" in page
    assert_no_leak(page, [TOKEN, DB_PASSWORD, server.api_key], "the request log page")


def test_the_dashboard_only_reads(server: LocalDokploy, compose: dict[str, Any]) -> None:
    client = _logged_in(server)
    before = server.count_objects()
    for method in ("POST", "PUT", "DELETE"):
        assert client.request(method, f"/compose/{compose['id']}").status_code == 405
    assert client.request("POST", "/").status_code == 405
    assert server.count_objects() == before
    # the API around it is unchanged: still behind the key, still Dokploy's 404 for unknown paths
    assert httpx.get(f"{server.url}/api/project.all").status_code == 401
    assert httpx.get(f"{server.url}/nothing-here").status_code == 404
    r = client.get("/")
    assert "default-src 'none'" in r.headers["content-security-policy"] and r.headers["cache-control"] == "no-store"


def test_unknown_compose_is_404(server: LocalDokploy) -> None:
    r = _logged_in(server).get("/compose/does-not-exist")
    assert r.status_code == 404 and "no compose" in r.text
