"""The release step (vX.Y.Z onto staging's manifests, no rebuild) and production's lookups, on the real registry."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from components.environment import ConfigError, Environment, environment_for
from components.images import ImagePolicyError, is_digest_reference, registry_resolver, release_images, resolve_images
from components.oci import Credentials, ManifestNotFound, RegistryAuthError, RegistryClient
from tests.registry.conftest import PREFIX, STAGING_TAG, Pushed
from tests.support.registry import skopeo_raw_manifest

CI = Credentials("ci", "ci-secret")
READER = Credentials("reader", "reader-secret")


def tag_exists(pushed: Pushed, repo: str, tag: str) -> bool:
    with RegistryClient(pushed.registry.address, credentials=READER) as c:
        return c.find_manifest(repo, tag) is not None


def test_release_tags_the_same_manifests_and_keeps_the_digests(pushed: Pushed) -> None:
    with RegistryClient(pushed.registry.address, credentials=CI) as c:
        digests = release_images(pushed.prefix, STAGING_TAG, "v1.2.3", client=c)
        again = release_images(pushed.prefix, STAGING_TAG, "v1.2.3", client=c)  # a re-run is a no-op
    for component in ("backend", "frontend"):
        staged = pushed.digests[f"{PREFIX}-{component}:{STAGING_TAG}"]
        assert digests[component] == again[component] == staged
        # Read back by an independent client: the release tag serves the very bytes staging ran.
        raw = skopeo_raw_manifest(f"docker://{pushed.prefix}-{component}:v1.2.3", "reader:reader-secret", pushed.home)
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == staged


def test_release_never_moves_an_existing_version_and_then_tags_nothing(pushed: Pushed) -> None:
    # backend:v1.0.0 exists and points elsewhere; frontend:v1.0.0 must not appear either.
    with RegistryClient(pushed.registry.address, credentials=CI) as c, pytest.raises(ImagePolicyError) as err:
        release_images(pushed.prefix, STAGING_TAG, "v1.0.0", client=c)
    assert "never moved" in str(err.value) and "backend:v1.0.0" in str(err.value)
    assert not tag_exists(pushed, f"{PREFIX}-frontend", "v1.0.0")


def test_release_with_a_missing_source_tags_nothing(pushed: Pushed) -> None:
    with RegistryClient(pushed.registry.address, credentials=CI) as c, pytest.raises(ManifestNotFound) as err:
        release_images(pushed.prefix, "sha-0000000", "v1.2.4", client=c)
    assert "backend:sha-0000000" in str(err.value) and "frontend:sha-0000000" in str(err.value)
    assert not tag_exists(pushed, f"{PREFIX}-backend", "v1.2.4")


@pytest.mark.parametrize("version", ["1.2.3", "v1.2", "v01.2.3", "v1.2.3-rc1", "latest"])
def test_release_version_must_be_vxyz_before_any_request(pushed: Pushed, version: str) -> None:
    before = len(pushed.registry.tokens.requests)
    with RegistryClient(pushed.registry.address, credentials=CI) as c, pytest.raises(ImagePolicyError) as err:
        release_images(pushed.prefix, STAGING_TAG, version, client=c)
    assert f"release version {version!r} is not vX.Y.Z" in str(err.value)
    assert len(pushed.registry.tokens.requests) == before


def test_a_pull_only_identity_cannot_release(pushed: Pushed) -> None:
    with RegistryClient(pushed.registry.address, credentials=READER) as c, pytest.raises(RegistryAuthError):
        release_images(pushed.prefix, STAGING_TAG, "v1.2.5", client=c)
    assert not tag_exists(pushed, f"{PREFIX}-backend", "v1.2.5")


def production(pushed: Pushed, tag: str) -> Environment:
    return environment_for("production", {"imageTag": tag, "imageRepository": pushed.prefix})


def test_production_pins_both_images_by_digest(pushed: Pushed) -> None:
    with RegistryClient(pushed.registry.address, credentials=CI) as c:
        release_images(pushed.prefix, STAGING_TAG, "v2.0.0", client=c)
    images = resolve_images(production(pushed, "v2.0.0"), registry_resolver(READER))
    for component in ("backend", "frontend"):
        digest = pushed.digests[f"{PREFIX}-{component}:{STAGING_TAG}"]
        assert images.refs[component] == f"{pushed.prefix}-{component}@{digest}"
        assert is_digest_reference(images.refs[component])
        assert images.digests[component] == digest


def test_production_with_a_half_released_version_fails_naming_the_missing_image(pushed: Pushed) -> None:
    with pytest.raises(ManifestNotFound) as err:
        resolve_images(production(pushed, "v1.0.0"), registry_resolver(READER))
    message = str(err.value)
    assert f"{pushed.prefix}-frontend:v1.0.0" in message
    assert f"{pushed.prefix}-backend:v1.0.0" not in message  # that one exists
    assert "nothing was changed" in message and "\n" not in message


def test_production_with_a_non_release_tag_fails_before_any_registry_call(pushed: Pushed) -> None:
    before = len(pushed.registry.tokens.requests)
    rule = r"production image tag 'sha-abc1234' is not a release tag vX\.Y\.Z"
    with pytest.raises(ConfigError, match=rule):  # the model refuses it ...
        production(pushed, STAGING_TAG)
    # ... and so does the image step, for an environment that slipped past the model.
    sneaked = dataclasses.replace(production(pushed, "v2.0.0"), image_tag=STAGING_TAG)
    with pytest.raises(ConfigError, match=rule):
        resolve_images(sneaked, registry_resolver(READER))
    assert len(pushed.registry.tokens.requests) == before
