"""The release App's token: a JWT signed with the App's key, exchanged for a token scoped to this repository
and `contents: write` only, written to the step output and never printed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ops import cli, github_app

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


def _github(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        assertion = req.headers["authorization"].removeprefix("Bearer ")
        claims = jwt.decode(assertion, KEY.public_key(), algorithms=["RS256"])
        assert claims["iss"] == "4242" and claims["exp"] - claims["iat"] <= 600
        if req.url.path == "/repos/o/r/installation":
            return httpx.Response(200, json={"id": 77})
        if req.url.path == "/app/installations/77/access_tokens":
            return httpx.Response(201, json={"token": "ghs_installation"})
        return httpx.Response(404)

    return httpx.MockTransport(handle)


def test_the_token_is_scoped_to_the_repository_and_contents() -> None:
    seen: list[httpx.Request] = []
    assert github_app.installation_token("4242", PEM, "o/r", api_url="https://api.test", transport=_github(seen)) == (
        "ghs_installation"
    )
    assert json.loads(seen[-1].content) == {"repositories": ["r"], "permissions": {"contents": "write"}}


def test_the_command_writes_the_output_and_prints_only_the_mask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    for k, v in {"RELEASE_APP_ID": "4242", "RELEASE_APP_PRIVATE_KEY": PEM, "GITHUB_REPOSITORY": "o/r"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setattr(github_app, "installation_token", lambda *a, **k: "ghs_installation")
    assert cli.main(["app-token"]) == 0
    assert out.read_text() == "token=ghs_installation\n"
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "::add-mask::ghs_installation" and printed.count("ghs_installation") == 1


def test_the_key_may_come_base64_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    seen: list[str] = []
    for k, v in {"RELEASE_APP_ID": "4242", "GITHUB_REPOSITORY": "o/r", "GITHUB_OUTPUT": str(tmp_path / "o")}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("RELEASE_APP_PRIVATE_KEY", base64.b64encode(PEM.encode()).decode())

    def mint(_id: str, key: str, *a: object, **k: object) -> str:
        seen.append(key)
        return "t"

    monkeypatch.setattr(github_app, "installation_token", mint)
    assert cli.main(["app-token"]) == 0 and seen == [PEM]
