"""How `make test` shares its two workers (pytest-xdist, `--dist loadgroup` in pyproject): each test directory
runs on one worker, in its own order, as it does in one process (its files share session servers and leave
state for each other; tests/pipeline shares one world of servers and a background release flow)."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(Path(item.path).relative_to(TESTS).parts[0]))
