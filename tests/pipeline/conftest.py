"""The pipeline tests' world: every local part started once per session (see world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline.act import act_available
from tests.pipeline.world import World, pulumi_available, started_world
from tests.support.openbao import OpenBao, openbao  # noqa: F401  (fixture)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, openbao: OpenBao) -> Iterator[World]:  # noqa: F811
    if not act_available():
        pytest.fail("nektos/act is missing: run `make test-setup` (scripts/test-setup.d/50-act.sh builds it)")
    with started_world(Path(tmp_path_factory.mktemp("pipeline")), openbao) as w:
        yield w


@pytest.fixture
def deploying_world(world: World) -> World:
    """The world, for scenarios whose workflows run `pulumi`."""
    if not pulumi_available():
        pytest.fail("the Pulumi CLI is missing: run `make setup`")
    return world


@pytest.fixture(scope="session", autouse=True)
def _background_flows(request: pytest.FixtureRequest) -> None:
    """Start the long scenario sequences that use their own servers as soon as the world is up, so they
    overlap with the rest (the PR scenarios): only when a test of theirs is selected."""
    modules = {getattr(getattr(item, "module", None), "__name__", "") for item in request.session.items}
    if "tests.pipeline.test_release" in modules:
        from tests.pipeline.test_release import release_flow

        request.getfixturevalue("world").start_flow("release", release_flow)
