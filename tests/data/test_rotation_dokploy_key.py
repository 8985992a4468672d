"""`python -m ops rotate dokploy-key`: the Dokploy key CI holds is replaced without a moment with no working key:
the new key works and is what GitHub's secret decrypts to, the old key is refused, the server's objects are
untouched. GitHub is a recording stand-in (httpx MockTransport) holding a real libsodium key pair; Dokploy is
the local server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl import encoding, public

from dokploy_local.testing import LocalDokploy
from ops.github_api import GitHub
from ops.rotate import RotationFailed, rotate_dokploy_key
from tests.support.dokploy import call_api, dokploy_server  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parents[2]


class SecretsStandIn:
    """GitHub's Actions-secrets endpoints for one environment: serves a public key, keeps what is PUT."""

    def __init__(self) -> None:
        self.private = public.PrivateKey.generate()
        self.stored: dict[str, dict[str, Any]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path.endswith("/secrets/public-key"):
            key = self.private.public_key.encode(encoding.Base64Encoder).decode()
            return httpx.Response(200, json={"key_id": "kid-1", "key": key})
        if request.method == "PUT" and "/secrets/" in path:
            self.stored[path] = json.loads(request.content)
            return httpx.Response(201)
        return httpx.Response(404)

    def plaintext(self, path: str) -> str:
        sealed = base64.b64decode(self.stored[path]["encrypted_value"])
        return public.SealedBox(self.private).decrypt(sealed).decode()


def _status(server: LocalDokploy, key: str) -> int:
    return httpx.get(f"{server.url}/api/project.all", headers={"x-api-key": key}).status_code


def _ci_key(server: LocalDokploy) -> tuple[str, str]:
    """The key CI holds before the rotation: (id, key), made the way a person makes one in Dokploy's UI."""
    org = call_api(server, "project.all")[0]["organizationId"]
    made = call_api(server, "user.createApiKey", {"name": "ci", "metadata": {"organizationId": org}})
    return made["id"], made["key"]


def test_dokploy_key_rotation_old_refused_new_working_in_the_secret(dokploy_server: LocalDokploy) -> None:  # noqa: F811
    call_api(dokploy_server, "project.create", {"name": "finance_report", "description": "Finance Report"})
    old_id, old = _ci_key(dokploy_server)
    github = SecretsStandIn()
    with GitHub("acme/finance-report", "t", api_url="https://github.test", transport=httpx.MockTransport(github)) as gh:
        new_id = rotate_dokploy_key(
            dokploy_server.url, old, old_id, "finance-report-staging",
            lambda key: gh.set_secret("DOKPLOY_STAGING_API_KEY", key, "staging"),
        )  # fmt: skip
    path = "/repos/acme/finance-report/environments/staging/secrets/DOKPLOY_STAGING_API_KEY"
    new = github.plaintext(path)
    assert new_id != old_id and new != old
    assert _status(dokploy_server, old) == 401  # revoked
    assert _status(dokploy_server, new) == 200  # what CI now holds works
    assert [p["name"] for p in call_api(dokploy_server, "project.all")] == ["finance_report"]  # nothing lost
    assert new not in repr(dokploy_server.requests()) and old not in repr(dokploy_server.requests())


def test_a_failed_secret_write_keeps_the_old_key_and_deletes_the_new(dokploy_server: LocalDokploy) -> None:  # noqa: F811
    call_api(dokploy_server, "project.create", {"name": "finance_report", "description": "Finance Report"})
    old_id, old = _ci_key(dokploy_server)
    made: list[str] = []

    def store(key: str) -> None:
        made.append(key)
        raise httpx.HTTPStatusError("403 Forbidden", request=httpx.Request("PUT", "x"), response=httpx.Response(403))

    with pytest.raises(httpx.HTTPStatusError):
        rotate_dokploy_key(dokploy_server.url, old, old_id, "finance-report-staging", store)
    assert _status(dokploy_server, old) == 200  # CI's key still works
    assert made and _status(dokploy_server, made[0]) == 401  # the half-made key is gone


def test_a_wrong_current_key_changes_nothing(dokploy_server: LocalDokploy) -> None:  # noqa: F811
    call_api(dokploy_server, "project.create", {"name": "finance_report", "description": "Finance Report"})
    old_id, old = _ci_key(dokploy_server)
    before = len(dokploy_server.requests())
    with pytest.raises(RotationFailed, match="DOKPLOY_API_KEY is refused"):
        rotate_dokploy_key(dokploy_server.url, "wrong-key", old_id, "x", lambda key: None)
    assert not [r for r in dokploy_server.requests()[before:] if r.get("method") == "POST"]
    assert _status(dokploy_server, old) == 200


def test_the_command_says_what_is_missing_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOKPLOY_", "GITHUB_", "VAULT_"))}
    command = ["rotate", "dokploy-key", "--stack", "staging", "--secret", "DOKPLOY_STAGING_API_KEY"]
    run = subprocess.run(
        [sys.executable, "-m", "ops", *command],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "error: rotate dokploy-key needs DOKPLOY_URL, DOKPLOY_API_KEY, GITHUB_TOKEN, GITHUB_REPOSITORY; "
        "docs/data.md, Rotation"
    ]
