"""What the real registry cannot easily show: 5xx retries, digest mismatches, old schemas, Basic auth."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
import respx

from components import oci
from components.oci import Credentials, ImageName, RegistryClient, RegistryError, RegistryUnavailable

BODY = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": []}).encode()
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()
URL = "https://registry.example/v2/acme/app/manifests/v1.0.0"


def ok(body: bytes = BODY, media_type: str = oci.OCI_INDEX, digest: str | None = DIGEST) -> httpx.Response:
    headers = {"Content-Type": media_type, **({"Docker-Content-Digest": digest} if digest else {})}
    return httpx.Response(200, content=body, headers=headers)


@respx.mock
def test_server_errors_are_retried_then_reported_in_one_line() -> None:
    route = respx.get(URL).mock(side_effect=[httpx.Response(503), ok()])
    with RegistryClient("registry.example") as c:
        assert c.resolve("acme/app", "v1.0.0") == DIGEST
    assert route.call_count == 2
    route.mock(return_value=httpx.Response(502))
    with RegistryClient("registry.example", attempts=2) as c, pytest.raises(RegistryUnavailable) as err:
        c.resolve("acme/app", "v1.0.0")
    assert str(err.value) == "registry registry.example answered HTTP 502 (after 2 attempts)"


@respx.mock
def test_the_digest_is_computed_from_the_bytes_and_must_match_the_header() -> None:
    respx.get(URL).mock(return_value=ok(digest=None))
    with RegistryClient("registry.example") as c:
        assert c.resolve("acme/app", "v1.0.0") == DIGEST
    respx.get(URL).mock(return_value=ok(digest="sha256:" + "0" * 64))
    with RegistryClient("registry.example") as c, pytest.raises(RegistryError, match="does not match the manifest"):
        c.resolve("acme/app", "v1.0.0")


@respx.mock
def test_accept_header_asks_for_indexes_and_lists_and_old_schemas_are_refused() -> None:
    route = respx.get(URL).mock(
        return_value=ok(media_type="application/vnd.docker.distribution.manifest.v1+prettyjws", digest=None)
    )
    with RegistryClient("registry.example") as c, pytest.raises(RegistryError, match="only OCI and Docker v2"):
        c.resolve("acme/app", "v1.0.0")
    accept = route.calls.last.request.headers["Accept"]
    for media_type in (oci.OCI_INDEX, oci.OCI_MANIFEST, oci.DOCKER_MANIFEST_LIST, oci.DOCKER_MANIFEST):
        assert media_type in accept


@respx.mock
def test_basic_challenge_is_answered_with_the_credentials() -> None:
    challenge = httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="registry"'})
    route = respx.get(URL).mock(side_effect=[challenge, ok()])
    with RegistryClient("registry.example", credentials=Credentials("u", "p")) as c:
        assert c.resolve("acme/app", "v1.0.0") == DIGEST
    assert route.calls.last.request.headers["Authorization"] == "Basic dTpw"


@respx.mock
def test_an_unreachable_token_service_is_named() -> None:
    challenge = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/app:pull"'
    respx.get(URL).mock(return_value=httpx.Response(401, headers={"WWW-Authenticate": challenge}))
    respx.get("https://auth.example/token").mock(side_effect=httpx.ConnectError("connection refused"))
    with RegistryClient("registry.example", attempts=2) as c, pytest.raises(RegistryUnavailable) as err:
        c.resolve("acme/app", "v1.0.0")
    assert str(err.value).startswith("token service https://auth.example/token is unreachable (ConnectError")


def test_https_except_on_loopback() -> None:
    assert RegistryClient("ghcr.io")._base == "https://ghcr.io"
    assert RegistryClient("127.0.0.1:5000")._base == "http://127.0.0.1:5000"
    assert RegistryClient("localhost:5000")._base == "http://localhost:5000"


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("finance_report-backend", "must name its registry"),
        ("ghcr.io/acme/app:v1.0.0", "without tag or digest"),
        ("ghcr.io/Acme/app", "lower case"),
    ],
)
def test_image_names(image: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        ImageName.parse(image)
    assert ImageName.parse("ghcr.io/acme/app") == ImageName("ghcr.io", "acme/app")


_CRED_VARS = (
    "REGISTRY_USERNAME",
    "REGISTRY_PASSWORD",
    "REGISTRY_READ_USERNAME",
    "REGISTRY_READ_PASSWORD",
    "GHCR_READ_TOKEN",
    "GITHUB_ACTOR",
    "GITHUB_TOKEN",
)


def test_credentials_from_the_environment_never_print_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _CRED_VARS:
        monkeypatch.delenv(var, raising=False)
    assert Credentials.for_pushing("ghcr.io") is None
    monkeypatch.setenv("GITHUB_ACTOR", "bot")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret")
    creds = Credentials.for_pushing("ghcr.io")
    assert creds == Credentials("bot", "ghs_secret") and "ghs_secret" not in repr(creds)
    assert Credentials.for_pushing("registry.example") is None  # the Actions token is for GHCR only
    monkeypatch.setenv("REGISTRY_USERNAME", "u")
    monkeypatch.setenv("REGISTRY_PASSWORD", "p")
    assert Credentials.for_pushing("registry.example") == Credentials("u", "p")


def test_lookups_never_send_the_github_token_to_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 9: where staging and production plan, GITHUB_TOKEN is the GitHub admin token (the github
    provider needs it); a digest lookup must not use it as the GHCR password."""
    for var in _CRED_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "bot")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_admin")
    assert Credentials.for_reading("ghcr.io") is None  # anonymous, rather than the admin token
    monkeypatch.setenv("GHCR_READ_TOKEN", "ghp_read_packages_only")
    assert Credentials.for_reading("ghcr.io") == Credentials("bot", "ghp_read_packages_only")
