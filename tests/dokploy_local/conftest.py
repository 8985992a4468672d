"""One server per test module (fast); tests that change knobs or restart use the function-scoped
`dokploy_server` fixture instead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dokploy_local.testing import LocalDokploy, running_server
from tests.contract.api import Api
from tests.support.dokploy import FAST_KNOBS, dokploy_server  # noqa: F401


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDokploy]:
    with running_server(tmp_path_factory.mktemp("dokploy"), knobs=FAST_KNOBS) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: LocalDokploy) -> Iterator[Api]:
    client = Api.of(server)
    yield client
    client.close()
