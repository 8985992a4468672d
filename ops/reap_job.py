"""The reaper job: pick PR stacks to reap, tear each down through the APIs, then look for orphaned objects.

A PR stack's state is written by the PR's own code, and the engine unpickles the dynamic providers stored
in it on `destroy` and `refresh`: running the engine on it would run the PR's code with the reaper's
tokens. So the reaper never does. Base-branch code deletes what the stack made, found in Dokploy by marker
and place (`orphans.stack_objects`), its Vault KV prefix (from the environment model) and its GitHub
environment, and then drops the state with `stack rm --force`, which reads no resource.

One stack failing (an object Dokploy refuses to delete, say) is reported, keeps that stack's state for the
next run, and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from components.environment import environment_for
from ops import orphans, pulumi_cli, reaper
from ops.github_api import GitHub


@dataclass
class Report:
    decisions: list[reaper.Decision] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    environments_deleted: list[str] = field(default_factory=list)
    orphans: list[tuple[orphans.DokployObject, str]] = field(default_factory=list)
    orphans_deleted: bool = False
    deleted: dict[str, list[str]] = field(default_factory=dict)  # stack -> what was deleted for it

    def kept_prs(self) -> list[int]:
        """The PRs whose stack outlives this run (kept, or a teardown that failed): their images stay too."""
        return sorted(
            d.pr_number for d in self.decisions if d.pr_number is not None and (not d.reap or d.stack in self.failures)
        )

    def markdown(self, *, dry_run: bool) -> str:
        lines = ["## PR stack reaper" + (" (dry run)" if dry_run else ""), "", "| stack | action | reason |"]
        lines.append("| --- | --- | --- |")
        for d in self.decisions:
            action = "reap" if d.reap else "keep"
            if d.stack in self.failures:
                action = "reap FAILED"
            lines.append(f"| `{d.stack}` | {action} | {d.reason} |")
        for stack, what in self.deleted.items():
            lines += ["", f"`{stack}`: deleted " + (", ".join(what) or "nothing (no objects left)")]
        for stack, why in self.failures.items():
            lines += ["", f"`{stack}` failed: `{why}`"]
        if self.environments_deleted:
            lines += ["", "GitHub environments deleted: " + ", ".join(f"`{e}`" for e in self.environments_deleted)]
        lines += ["", "### Dokploy objects with our marker and no stack (preview project)", ""]
        if not self.orphans:
            lines.append("none")
        for obj, stack in self.orphans:
            state = "deleted" if self.orphans_deleted else "reported (run with delete-orphans to delete)"
            if f"{obj.kind} {obj.id}" in self.failures:
                state = "delete FAILED"
            lines.append(f"- {obj.kind} `{obj.name}` (`{obj.id}`), marker stack `{stack}`: {state}")
        return "\n".join(lines)


def run(
    *,
    github: GitHub,
    dokploy: orphans.PreviewProject | None,
    ttl: timedelta,
    dry_run: bool,
    delete_orphans: bool,
    environments: GitHub | None = None,
    secrets: orphans.PreviewSecrets | None = None,
    only: str | None = None,
    retire: Callable[[int], object] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Report:
    report = Report()
    stacks = reaper.parse_stack_ls(pulumi_cli.stack_ls())
    if only is not None:  # the PR-close job: this one stack, still decided by its PR's state
        stacks = [s for s in stacks if s.name == only]
    states: dict[int, reaper.PrState] = {}
    for s in stacks:
        number = reaper.pr_number_of(s.name)
        if number is not None:
            try:
                states[number] = github.pr_state(number)
            except Exception as exc:  # an unknown state keeps the stack; the report says why
                report.failures[s.name] = f"PR lookup: {type(exc).__name__}"
    report.decisions = reaper.select(stacks, states, now(), ttl)
    live = {s.name for s in stacks}
    for d in report.decisions:
        if not d.reap or dry_run:
            continue
        try:
            report.deleted[d.stack] = teardown(d.stack, dokploy, secrets)
            if retire is not None and d.pr_number is not None:  # the PR's Vault identity (entity, token role)
                retire(d.pr_number)
                report.deleted[d.stack].append(f"Vault identity of PR #{d.pr_number}")
        except Exception as exc:  # the state stays, so the next run retries
            report.failures[d.stack] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
            continue
        live.discard(d.stack)
        if environments is not None and environments.delete_environment(d.stack):
            report.environments_deleted.append(d.stack)
    if dokploy is not None:
        # Markers the live PR stacks hold; an export that fails leaves us unsure, so nothing is deleted then.
        markers: set[str] = set()
        for stack in sorted(s for s in live if reaper.pr_number_of(s) is not None):
            markers |= orphans.markers_in_state(pulumi_cli.export(stack))
        report.orphans = orphans.select_orphans(dokploy.objects(), markers, live)
        if delete_orphans and not dry_run:
            for obj, _ in orphans.delete_order(report.orphans):
                try:
                    dokploy.delete(obj)
                except Exception as exc:  # e.g. an environment still holding a hand-made service
                    report.failures[f"{obj.kind} {obj.id}"] = f"delete: {type(exc).__name__}: {exc}"[:300]
            report.orphans_deleted = bool(report.orphans)
    return report


def teardown(stack: str, dokploy: orphans.PreviewProject | None, secrets: orphans.PreviewSecrets | None) -> list[str]:
    """Delete a PR stack's objects through the APIs, then its state; the engine never opens the state."""
    if dokploy is None:
        raise RuntimeError("no Dokploy key (DOKPLOY_API_KEY): the stack's objects cannot be deleted, state kept")
    done = []
    objects = orphans.stack_objects(dokploy.objects(), stack)
    for obj, _ in orphans.delete_order([(o, stack) for o in objects]):
        dokploy.delete(obj)
        done.append(f"{obj.kind} {obj.id}")
    if secrets is not None:
        env = environment_for(stack)
        done += [f"secret {p}" for p in secrets.purge(env.vault_prefix)]
    res = pulumi_cli.remove_state(stack)
    if res.code != 0:
        raise RuntimeError("pulumi stack rm --force: " + (res.output.strip().splitlines() or ["?"])[-1])
    return done
