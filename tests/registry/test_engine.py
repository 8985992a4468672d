"""`pulumi up --stack production` against the real registry: pinned by digest, or stopped before any change."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.images import is_digest_reference, release_images
from components.oci import Credentials, RegistryClient
from tests.registry.conftest import PREFIX, STAGING_TAG, Pushed
from tests.support.engine_program import PROGRAM, resource_types
from tests.support.pulumi_cli import PulumiCLI, make_project, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="the Pulumi CLI is built by `make setup`"),
]


def production(tmp_path: Path, pushed: Pushed, tag: str) -> PulumiCLI:
    cli = make_project(tmp_path, PROGRAM)
    cli.extra_env.update(REGISTRY_USERNAME="reader", REGISTRY_PASSWORD="reader-secret")
    cli.run("stack", "init", "production")
    for key, value in (
        ("financeReport:imageTag", tag),
        ("financeReport:imageRepository", pushed.prefix),
        ("test:github", "false"),  # no GitHub here: this is about images
    ):
        cli.run("config", "set", "--stack", "production", key, value)
    return cli


def test_production_runs_the_released_manifests_by_digest(tmp_path: Path, pushed: Pushed) -> None:
    with RegistryClient(pushed.registry.address, credentials=Credentials("ci", "ci-secret")) as c:
        release_images(pushed.prefix, STAGING_TAG, "v3.0.0", client=c)
    cli = production(tmp_path, pushed, "v3.0.0")
    cli.up("production")
    refs = cli.outputs("production")["refs"]
    assert isinstance(refs, dict)
    for component in ("backend", "frontend"):
        digest = pushed.digests[f"{PREFIX}-{component}:{STAGING_TAG}"]
        assert refs[component] == f"{pushed.prefix}-{component}@{digest}"
        assert is_digest_reference(refs[component])


def test_production_with_a_missing_image_stops_before_any_resource(tmp_path: Path, pushed: Pushed) -> None:
    cli = production(tmp_path, pushed, "v1.0.0")  # backend has v1.0.0, frontend does not
    proc = cli.up("production", check=False)
    assert proc.returncode != 0
    assert f"{pushed.prefix}-frontend:v1.0.0 not found in the registry" in proc.stdout
    assert resource_types(cli.export("production")) == ["pulumi:pulumi:Stack"]


def test_production_with_a_non_release_tag_stops_before_any_resource(tmp_path: Path, pushed: Pushed) -> None:
    before = len(pushed.registry.tokens.requests)
    cli = production(tmp_path, pushed, STAGING_TAG)
    proc = cli.up("production", check=False)
    assert proc.returncode != 0
    assert "production image tag 'sha-abc1234' is not a release tag vX.Y.Z" in proc.stdout
    assert resource_types(cli.export("production")) == ["pulumi:pulumi:Stack"]
    assert len(pushed.registry.tokens.requests) == before  # refused without asking the registry
