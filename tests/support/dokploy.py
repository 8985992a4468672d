"""pytest fixture `dokploy_server`: a fresh local Dokploy server for one test.

It runs `python -m dokploy_local` on a free loopback port with its data in the test's `tmp_path`, deployments
that take 100 ms, and no faults. The value is a `dokploy_local.testing.LocalDokploy` handle: `.url` (the API is
at `.url + "/api/..."`), `.api_key`, `set_knobs(...)`, `add_member_key(...)`, `requests()`, `counters()`,
`count_objects()`, `seed(...)`, `restart()`, `stop()`. Use it from a conftest.py:

    from tests.support.dokploy import dokploy_server  # noqa: F401

`call_api(server, procedure, ...)` calls the server's API with the owner key, as a person in the UI would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dokploy_local.testing import LocalDokploy, running_server

FAST_KNOBS = {"deploy_duration_ms": 100}


@pytest.fixture
def dokploy_server(tmp_path: Path) -> Iterator[LocalDokploy]:
    with running_server(tmp_path / "dokploy", knobs=FAST_KNOBS) as server:
        yield server


def call_api(server: LocalDokploy, procedure: str, body: dict[str, Any] | None = None, **params: str) -> Any:
    """A query (GET with `params`) or, given a `body`, a mutation (POST) with the server's owner key."""
    headers = {"x-api-key": server.api_key}
    if body is None:
        r = httpx.get(f"{server.url}/api/{procedure}", params=params, headers=headers)
    else:
        r = httpx.post(f"{server.url}/api/{procedure}", json=body, headers=headers)
    r.raise_for_status()
    return r.json() if r.content else None
