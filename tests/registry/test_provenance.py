"""Release provenance (finding 3): production accepts a digest only if staging recorded it for that version.

The registry cannot hold this line: GHCR grants `packages: write` per repository, so a PR's image job can
push any tag, `:v5.1.3` included. The record lives in Vault under a path only staging's identity may
create (and nobody may rewrite); production's identity reads it. Real registry, real OpenBao.
"""

from __future__ import annotations

import hvac.exceptions
import pytest

from components.environment import Environment, environment_for
from components.images import (
    ImagePolicyError,
    ReleaseRecords,
    UnreleasedImage,
    registry_resolver,
    release_images,
    released_resolver,
    resolve_images,
)
from components.oci import Credentials, RegistryClient
from components.vault.errors import VaultPermissionDenied
from tests.registry.conftest import PREFIX, STAGING_TAG, Pushed
from tests.vault.conftest import Authority

CI = Credentials("ci", "ci-secret")  # what a job with packages: write holds - a PR's image job included
READER = Credentials("reader", "reader-secret")


def production(pushed: Pushed, tag: str) -> Environment:
    return environment_for("production", {"imageTag": tag, "imageRepository": pushed.prefix})


def records(authority: Authority, identity: str) -> ReleaseRecords:
    return ReleaseRecords(authority.as_token(authority.identity(identity)))


def test_an_overwritten_release_tag_is_refused_by_production(pushed: Pushed, authority: Authority) -> None:
    with RegistryClient(pushed.registry.address, credentials=CI) as c:
        released = release_images(pushed.prefix, STAGING_TAG, "v5.1.3", client=c)
    records(authority, "staging").record("v5.1.3", released)  # the staging job, after its smoke test
    plan = released_resolver(registry_resolver(READER), records(authority, "production"))
    assert resolve_images(production(pushed, "v5.1.3"), plan).digests == released

    # Hostile: someone with packages: write pushes another image over backend:v5.1.3.
    with RegistryClient(pushed.registry.address, credentials=CI) as c:
        other = c.get_manifest(f"{PREFIX}-backend", "single")
        c.put_manifest(f"{PREFIX}-backend", "v5.1.3", other)
    assert registry_resolver(READER)(f"{pushed.prefix}-backend", "v5.1.3") == other.digest  # the tag did move
    with pytest.raises(UnreleasedImage) as err:
        resolve_images(production(pushed, "v5.1.3"), plan)
    msg = str(err.value)
    assert other.digest in msg and released["backend"] in msg and "moved" in msg and "\n" not in msg


def test_a_version_staging_never_recorded_is_refused(pushed: Pushed, authority: Authority) -> None:
    with RegistryClient(pushed.registry.address, credentials=CI) as c:  # tagged, but never recorded
        release_images(pushed.prefix, STAGING_TAG, "v1.2.6", client=c)
    plan = released_resolver(registry_resolver(READER), records(authority, "production"))
    with pytest.raises(UnreleasedImage, match="never released by staging"):
        resolve_images(production(pushed, "v1.2.6"), plan)


@pytest.mark.parametrize("identity", ["pr-7", "production", "production-readonly"])
def test_only_staging_can_record_a_release(authority: Authority, identity: str) -> None:
    forged = {"backend": "sha256:" + "b" * 64, "frontend": "sha256:" + "f" * 64}
    with pytest.raises(VaultPermissionDenied):
        records(authority, identity).record("v7.7.7", forged)


def test_a_recorded_release_is_never_rewritten(authority: Authority) -> None:
    staging = records(authority, "staging")
    first = {"backend": "sha256:" + "1" * 64, "frontend": "sha256:" + "2" * 64}
    staging.record("v4.0.0", first)
    staging.record("v4.0.0", first)  # a re-run is a no-op
    with pytest.raises(ImagePolicyError, match="never re-recorded"):
        staging.record("v4.0.0", {**first, "backend": "sha256:" + "3" * 64})
    # ...and not by going around the helper either: staging's policy has no `update` on release paths
    with pytest.raises((hvac.exceptions.Forbidden, VaultPermissionDenied)):
        authority.as_token(authority.identity("staging")).kv_write(
            "secret", "finance_report/release/v4.0.0", {"backend": "sha256:" + "3" * 64}, cas=1
        )
