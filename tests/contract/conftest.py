"""Fixtures of the contract suite: the target server, its scratch project, clients, and skips with reasons.

- `api`: the owner (or admin) key of the target, bound to the scratch project (`Api.project()` adds environments
  to it).
- `scratch`: `project.create`'s answer for the scratch project; its removal at the end is checked too.
- `outsider`: a member's key without access to the scratch project (the imitation's own, or
  CONTRACT_DOKPLOY_MEMBER_KEY); skipped without one.
- `imitation`: the suite's own imitation, for tests that need its knobs; skipped on a real server.
- `dokploy_server`: a fresh imitation for one test (knobs, restarts); skipped on a real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dokploy_local.testing import LocalDokploy, running_server
from tests.contract.api import Api
from tests.contract.target import (
    IMITATION_MEMBER_KEY,
    NEEDS_IMITATION,
    NEEDS_MEMBER_KEY,
    SCRATCH_DESCRIPTION,
    Target,
    remote_target,
    scratch_name,
)
from tests.support.dokploy import FAST_KNOBS


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    remote = remote_target()
    if remote is not None:
        yield remote
        return
    with running_server(tmp_path_factory.mktemp("contract-dokploy"), knobs=FAST_KNOBS) as server:
        server.add_member_key(IMITATION_MEMBER_KEY, [])
        yield Target(url=server.url, key=server.api_key, member_key=IMITATION_MEMBER_KEY, imitation=server)


@pytest.fixture(scope="session")
def scratch(target: Target) -> Iterator[dict[str, Any]]:
    """The run's one project; removing it at the end is itself checked (row returned, cascade, second 404)."""
    owner = Api(target.url, target.key)
    try:
        created: dict[str, Any] = owner.ok(
            "POST", "project.create", name=scratch_name(), description=SCRATCH_DESCRIPTION
        )
        yield created
        project_id = created["project"]["projectId"]
        composes = [
            c["composeId"]
            for env in owner.ok("GET", "project.one", projectId=project_id)["environments"]
            for c in env.get("compose", [])
        ]
        removed = owner.ok("POST", "project.remove", projectId=project_id)
        assert removed["projectId"] == project_id
        assert owner.post("project.remove", projectId=project_id).status_code == 404
        for compose_id in composes[:3]:  # foreign keys cascade: the composes went with it
            assert owner.get("compose.one", composeId=compose_id).status_code == 404
    finally:
        owner.close()


@pytest.fixture(scope="session")
def api(target: Target, scratch: dict[str, Any]) -> Iterator[Api]:
    client = Api(target.url, target.key, scratch_project=scratch["project"])
    yield client
    client.close()


@pytest.fixture(scope="session")
def outsider(target: Target, api: Api) -> Iterator[Api]:
    if not target.member_key:
        pytest.skip(NEEDS_MEMBER_KEY)
    client = api.with_key(target.member_key)
    yield client
    client.close()


@pytest.fixture
def needs_docker(target: Target) -> None:
    """Procedures that run `docker compose` on the server at once (start, stop): the imitation only acts them out."""
    if target.imitation is None:
        pytest.skip("runs docker on the Dokploy server (compose.start/stop): needs a Docker engine there")


@pytest.fixture(scope="session")
def imitation(target: Target) -> LocalDokploy:
    if target.imitation is None:
        pytest.skip(NEEDS_IMITATION)
    return target.imitation


@pytest.fixture
def dokploy_server(target: Target, tmp_path: Path) -> Iterator[LocalDokploy]:
    if target.imitation is None:
        pytest.skip(NEEDS_IMITATION)
    with running_server(tmp_path / "dokploy", knobs=FAST_KNOBS) as server:
        yield server


def pytest_report_header(config: pytest.Config) -> str:
    remote = remote_target()
    return f"contract target: {remote.url if remote else 'the imitation (dokploy_local), started by the suite'}"
