"""How `make test` shares its two workers (pytest-xdist, `-n 2` in pyproject): each test directory runs on one
worker, in its own order, as it does in one process (its files share session servers and leave state for
each other; tests/dokploy's last file checks what the whole directory sent; tests/pipeline shares one world
of servers and a background release flow).

A scheduler of ours rather than `--dist loadgroup`: xdist's group marker works by renaming each test's id,
which pytest 9 no longer allows, so the groups silently fell apart."""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling


class DirectoryScheduling(LoadScopeScheduling):
    """xdist's per-module scheduling, with the top test directory as the unit."""

    def _split_scope(self, nodeid: str) -> str:
        parts = nodeid.split("::", 1)[0].split("/")
        return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> DirectoryScheduling:
    return DirectoryScheduling(config, log)
