"""pytest fixture `dokploy_server`: a fresh local Dokploy server for one test.

It runs `python -m dokploy_local` on a free loopback port with its data in the test's `tmp_path`, deployments
that take 100 ms, and no faults. The value is a `dokploy_local.testing.LocalDokploy` handle: `.url` (the API is
at `.url + "/api/..."`), `.api_key`, `set_knobs(...)`, `add_member_key(...)`, `requests()`, `counters()`,
`count_objects()`, `seed(...)`, `restart()`, `stop()`. Use it from a conftest.py:

    from tests.support.dokploy import dokploy_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dokploy_local.testing import LocalDokploy, running_server

FAST_KNOBS = {"deploy_duration_ms": 100}


@pytest.fixture
def dokploy_server(tmp_path: Path) -> Iterator[LocalDokploy]:
    with running_server(tmp_path / "dokploy", knobs=FAST_KNOBS) as server:
        yield server
