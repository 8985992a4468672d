"""Which PR image versions the reaper deletes from GHCR, and why; and the job that deletes them.

GHCR keeps every `pr-<N>-<sha7>` a PR push built, in the PR packages (`<repository>-preview-<component>`,
from the environment model). A version is one manifest digest and carries every tag pointing at it; deleting
it deletes them all. So a version is deleted only when each of its tags is a PR image tag, it was last
updated longer ago than the TTL (the stacks' TTL), and none of its PRs has a stack the stack reaper kept (an
open PR's fresh environment keeps its images). Anything else is kept, with its reason for the report: a
release `vX.Y.Z`, `sha-*` or `staging` tag, an untagged version (not ours to judge), an unknown age.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from components.environment import pr_of_image_tag
from components.images import COMPONENTS, image_name
from components.oci import ImageName
from ops import stacks
from ops.github_api import GitHub


@dataclass(frozen=True)
class Version:
    id: int
    tags: tuple[str, ...]
    updated_at: datetime | None


@dataclass(frozen=True)
class Decision:
    package: str
    version: Version
    delete: bool
    reason: str


def parse_version(row: Mapping[str, object]) -> Version:
    """A Packages API version: `id`, `metadata.container.tags`, `updated_at` (ISO 8601, `Z`)."""
    meta = row.get("metadata")
    container = meta.get("container") if isinstance(meta, Mapping) else None
    tags = container.get("tags") if isinstance(container, Mapping) else None
    raw = row.get("updated_at")
    when = datetime.fromisoformat(raw.replace("Z", "+00:00")) if isinstance(raw, str) and raw else None
    return Version(int(str(row["id"])), tuple(str(t) for t in tags or ()), when)


def decide(package: str, version: Version, kept: Collection[int], now: datetime, ttl: timedelta) -> Decision:
    def keep(reason: str) -> Decision:
        return Decision(package, version, False, reason)

    if not version.tags:
        return keep("untagged")
    prs = {tag: pr_of_image_tag(tag) for tag in version.tags}
    others = [tag for tag, number in prs.items() if number is None]
    if others:
        return keep("also tagged " + ", ".join(f"`{t}`" for t in others) + " (not a PR image)")
    numbers = sorted({n for n in prs.values() if n is not None})
    held = [n for n in numbers if n in kept]
    if held:
        return keep(", ".join(f"PR #{n}" for n in held) + ": its stack is kept")
    if version.updated_at is None:
        return keep("age unknown")
    age = now - version.updated_at
    ttl_h = f"TTL {_hours(ttl)}h"
    if age <= ttl:
        return keep(f"updated {_hours(age)}h ago, {ttl_h}")
    return Decision(package, version, True, f"updated {_hours(age)}h ago, {ttl_h}; no kept stack")


def select(
    package: str, versions: Iterable[Version], kept: Collection[int], now: datetime, ttl: timedelta
) -> list[Decision]:
    return [decide(package, v, kept, now, ttl) for v in versions]


def pr_packages() -> list[tuple[str, str]]:
    """(owner, package) of the GHCR packages every `pr-<N>` pushes to (the same ones for every N)."""
    env = stacks.environment(stacks.pr_stack(1))
    out = []
    for component in COMPONENTS:
        owner, _, package = ImageName.parse(image_name(env, component)).repository.partition("/")
        out.append((owner, package))
    return out


@dataclass
class Report:
    decisions: list[Decision] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # "package version-id" or package -> why

    def markdown(self, *, dry_run: bool) -> str:
        lines = ["## PR image reaper" + (" (dry run)" if dry_run else ""), ""]
        lines += ["| package | tags | action | reason |", "| --- | --- | --- | --- |"]
        for d in self.decisions:
            key = f"{d.package} {d.version.id}"
            action = "delete FAILED" if key in self.failures else ("delete" if d.delete else "keep")
            tags = ", ".join(f"`{t}`" for t in d.version.tags) or "—"
            lines.append(f"| `{d.package}` | {tags} | {action} | {d.reason} |")
        for what, why in self.failures.items():
            lines += ["", f"`{what}` failed: `{why}`"]
        return "\n".join(lines)


def run(
    *,
    github: GitHub,
    kept: Collection[int],
    ttl: timedelta,
    dry_run: bool,
    packages: Iterable[tuple[str, str]] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Report:
    """List each PR package's versions, decide, delete (unless `dry_run`). One failure does not stop the rest."""
    report = Report()
    for owner, package in packages if packages is not None else pr_packages():
        try:
            versions = [parse_version(row) for row in github.package_versions(owner, package)]
        except Exception as exc:  # nothing of this package is deleted without its list
            report.failures[package] = f"list: {type(exc).__name__}"
            continue
        decisions = select(package, versions, kept, now(), ttl)
        report.decisions += decisions
        for d in decisions:
            if not d.delete or dry_run:
                continue
            try:
                github.delete_package_version(owner, package, d.version.id)
            except Exception as exc:
                report.failures[f"{package} {d.version.id}"] = f"delete: {type(exc).__name__}"
    return report


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)
