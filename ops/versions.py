"""Release versions: the next patch `vX.Y.Z` after the newest release tag.

Only exact `vX.Y.Z` tags count (the model's release-tag rule, no leading zeros); anything else
(`v1.2`, `v1.2.3-rc1`, `release-5`, `v01.2.3`) is ignored rather than guessed at. With no release tag
yet the first version is `v0.0.1` (the seed started from an implicit v0.0.0 and bumped the patch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_RELEASE = re.compile(r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
FIRST = (0, 0, 1)

Version = tuple[int, int, int]


def parse(tag: str) -> Version | None:
    m = _RELEASE.match(tag.strip())
    if not m:
        return None
    major, minor, patch = (int(g) for g in m.groups())
    return major, minor, patch


def fmt(version: Version) -> str:
    return "v{}.{}.{}".format(*version)


def latest(tags: Iterable[str]) -> Version | None:
    versions = [v for v in (parse(t) for t in tags) if v is not None]
    return max(versions) if versions else None


def next_version(tags: Iterable[str]) -> str:
    """The next patch after the newest release tag (numeric order, not string order: v1.10.0 > v1.9.9)."""
    newest = latest(tags)
    if newest is None:
        return fmt(FIRST)
    major, minor, patch = newest
    return fmt((major, minor, patch + 1))


def release_for_commit(all_tags: Iterable[str], tags_at_commit: Iterable[str]) -> tuple[str, bool]:
    """(version, is_new): a re-run on an already released commit reuses its tag instead of cutting another."""
    existing = latest(tags_at_commit)
    if existing is not None:
        return fmt(existing), False
    return next_version(all_tags), True


def previous_release(tags: Iterable[str], current: str) -> str | None:
    """The newest release tag below `current` (a fallback when the stack's history cannot say)."""
    cur = parse(current)
    if cur is None:
        return None
    older = [v for v in (parse(t) for t in tags) if v is not None and v < cur]
    return fmt(max(older)) if older else None
