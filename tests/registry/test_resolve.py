"""Digest lookups against the real registry: token exchange, media types, and each failure's one line."""

from __future__ import annotations

import pytest

from components import oci
from components.oci import Credentials, ManifestNotFound, RegistryAuthError, RegistryClient, RegistryUnavailable
from tests.registry.conftest import PREFIX, STAGING_TAG, Pushed
from tests.support.registry import free_port

READER = Credentials("reader", "reader-secret")


def client(pushed: Pushed, creds: Credentials | None = READER) -> RegistryClient:
    return RegistryClient(pushed.registry.address, credentials=creds)


def test_present_tag_gives_the_index_digest_through_the_bearer_challenge(pushed: Pushed) -> None:
    before = len(pushed.registry.tokens.requests)
    with client(pushed) as c:
        manifest = c.get_manifest(f"{PREFIX}-backend", STAGING_TAG)
    assert manifest.media_type == oci.OCI_INDEX
    assert manifest.digest == pushed.digests[f"{PREFIX}-backend:{STAGING_TAG}"]
    # The registry sent us to the token service, with the scope it asked for, as the reader.
    token_requests = pushed.registry.tokens.requests[before:]
    assert token_requests == [
        {
            "service": "test-registry",
            "scope": f"repository:{PREFIX}-backend:pull",
            "account": "reader",
            "user": "reader",
        }
    ]


@pytest.mark.parametrize(
    ("tag", "media_type"),
    [
        ("docker-list", oci.DOCKER_MANIFEST_LIST),
        ("docker-v2", oci.DOCKER_MANIFEST),
        ("single", oci.OCI_MANIFEST),
    ],
)
def test_every_manifest_kind_resolves_to_the_digest_of_its_bytes(pushed: Pushed, tag: str, media_type: str) -> None:
    with client(pushed) as c:
        manifest = c.get_manifest(f"{PREFIX}-backend", tag)
    assert manifest.media_type == media_type
    assert manifest.digest == pushed.digests[f"{PREFIX}-backend:{tag}"]


def test_one_client_reuses_its_token(pushed: Pushed) -> None:
    before = len(pushed.registry.tokens.requests)
    with client(pushed) as c:
        first = c.resolve(f"{PREFIX}-frontend", STAGING_TAG)
        second = c.resolve(f"{PREFIX}-frontend", STAGING_TAG)
    assert first == second == pushed.digests[f"{PREFIX}-frontend:{STAGING_TAG}"]
    assert len(pushed.registry.tokens.requests) - before == 1


def test_missing_tag_names_image_and_tag(pushed: Pushed) -> None:
    with client(pushed) as c, pytest.raises(ManifestNotFound) as err:
        c.resolve(f"{PREFIX}-backend", "v9.9.9")
    message = str(err.value)
    assert f"{pushed.registry.address}/{PREFIX}-backend:v9.9.9" in message
    assert "\n" not in message


def test_missing_repository_is_not_found_too(pushed: Pushed) -> None:
    with client(pushed) as c, pytest.raises(ManifestNotFound, match=r"acme/nothing-here:v1\.0\.0"):
        c.resolve("acme/nothing-here", "v1.0.0")


def test_wrong_password_is_one_line_without_the_password(pushed: Pushed) -> None:
    with client(pushed, Credentials("reader", "wrong-password")) as c, pytest.raises(RegistryAuthError) as err:
        c.resolve(f"{PREFIX}-backend", STAGING_TAG)
    message = str(err.value)
    assert "refused the credentials" in message and "'reader'" in message
    assert "wrong-password" not in message and "\n" not in message


def test_anonymous_pull_is_denied(pushed: Pushed) -> None:
    with client(pushed, None) as c, pytest.raises(RegistryAuthError, match="denied anonymous access"):
        c.resolve(f"{PREFIX}-backend", STAGING_TAG)


def test_registry_down_is_one_line(pushed: Pushed) -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    with RegistryClient(address, credentials=READER, attempts=2) as c, pytest.raises(RegistryUnavailable) as err:
        c.resolve(f"{PREFIX}-backend", STAGING_TAG)
    message = str(err.value)
    assert address in message and "unreachable" in message and "after 2 attempts" in message
    assert "\n" not in message


def test_the_default_lookup_authenticates_with_the_read_credential(
    pushed: Pushed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 9 on the real registry: with a write pair and a read pair both in the environment, the
    production lookup asks the token service as the reader only."""
    from components.images import registry_resolver

    monkeypatch.setenv("REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("REGISTRY_PASSWORD", "ci-secret")
    monkeypatch.setenv("REGISTRY_READ_USERNAME", "reader")
    monkeypatch.setenv("REGISTRY_READ_PASSWORD", "reader-secret")
    before = len(pushed.registry.tokens.requests)
    digest = registry_resolver()(f"{pushed.prefix}-backend", STAGING_TAG)
    assert digest == pushed.digests[f"{PREFIX}-backend:{STAGING_TAG}"]
    assert {r["user"] for r in pushed.registry.tokens.requests[before:]} == {"reader"}
