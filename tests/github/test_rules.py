"""Image and version rules per environment, and their messages (pure: no Pulumi runtime)."""

from __future__ import annotations

import pytest

from components.environment import ConfigError, environment_for
from components.images import (
    RELEASE_TAG,
    ImagePolicyError,
    build_args,
    build_plan,
    is_digest_reference,
    release_images,
)

REPO = "ghcr.io/wangzitian0/finance_report"


def test_pr_build_plan_is_one_tag_and_the_pr_origin() -> None:
    env = environment_for("pr-7", {"imageTag": "pr-7-abc1234"})
    backend, frontend = build_plan(env)
    assert (backend.component, backend.context, backend.tags) == (
        "backend",
        "apps/backend",
        (f"{REPO}-preview-backend:pr-7-abc1234",),  # the PR packages, never the release ones
    )
    assert backend.build_args == {}
    assert frontend.tags == (f"{REPO}-preview-frontend:pr-7-abc1234",)
    # The frontend appends /api/... itself: the bare origin, never .../api (the seed's /api/api bug).
    assert frontend.build_args == {"NEXT_PUBLIC_API_URL": "https://report-pr-7.zitian.party"}


def test_staging_build_plan_adds_the_floating_tag() -> None:
    env = environment_for("staging", {"imageTag": "sha-abc1234", "baseDomain": "example.org"})
    assert [s.tags for s in build_plan(env)] == [
        (f"{REPO}-backend:sha-abc1234", f"{REPO}-backend:staging"),
        (f"{REPO}-frontend:sha-abc1234", f"{REPO}-frontend:staging"),
    ]
    assert (
        build_args(env, "frontend")
        == {"NEXT_PUBLIC_API_URL": env.api_url}
        == {"NEXT_PUBLIC_API_URL": "https://report-staging.example.org"}
    )


@pytest.mark.parametrize(
    ("stack", "config", "message"),
    [
        ("production", {"imageTag": "v1.2.3"}, "stack production never builds images (verify-digest); production runs"),
        ("local", {}, "stack local never builds images (local-tag); local uses local tags"),
    ],
)
def test_stacks_that_never_build(stack: str, config: dict[str, str], message: str) -> None:
    with pytest.raises(ImagePolicyError) as err:
        build_plan(environment_for(stack, config))
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("stack", "tag", "message"),
    [
        ("production", "sha-abc1234", "production image tag 'sha-abc1234' is not a release tag vX.Y.Z"),
        ("production", "v1.2", "production image tag 'v1.2' is not a release tag vX.Y.Z"),
        ("staging", "v1.2.3", "staging image tag 'v1.2.3' is not sha-<7 hex>"),
        ("pr-7", "pr-8-abc1234", "image tag 'pr-8-abc1234' does not match pr-7-<7 hex>"),
    ],
)
def test_tag_rules_per_environment(stack: str, tag: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        environment_for(stack, {"imageTag": tag})
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("version", ["v0.0.1", "v1.2.3", "v10.20.30"])
def test_release_versions(version: str) -> None:
    assert RELEASE_TAG.fullmatch(version)


@pytest.mark.parametrize("version", ["1.2.3", "v1.2", "v01.2.3", "v1.2.3-rc.1", "V1.2.3", "v1.2.3\n"])
def test_not_release_versions_are_refused_before_any_registry_call(version: str) -> None:
    with pytest.raises(ImagePolicyError, match=r"is not vX\.Y\.Z \(e\.g\. v1\.0\.45\); nothing was tagged"):
        release_images(REPO, "sha-abc1234", version, client=None)  # no client needed: refused first


@pytest.mark.parametrize(
    ("ref", "ok"),
    [
        (f"{REPO}-backend@sha256:{'a' * 64}", True),
        (f"127.0.0.1:5000/acme/app@sha256:{'a' * 64}", True),
        (f"{REPO}-backend:v1.2.3@sha256:{'a' * 64}", False),  # a tag beside the digest is not "digest only"
        (f"{REPO}-backend:v1.2.3", False),
        (f"{REPO}-backend@sha256:{'a' * 63}", False),
    ],
)
def test_digest_only_references(ref: str, ok: bool) -> None:
    assert is_digest_reference(ref) is ok
