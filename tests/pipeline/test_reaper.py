"""reaper.yml under act, whole workflow per event: orphaned Dokploy objects in the preview project.

The cheapest honest setup for an orphan is what a crash leaves: objects a `pr-<N>` stack's `up` created on
Dokploy (they carry our marker) while no stack holds them, here made with the owner's key on the PR server.
The daily run (schedule) only reports them; a run dispatched with `delete-orphans` deletes them. Objects made
by hand (no marker) are never touched.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import hvac
import pytest

from components.dokploy.markers import marker_for, tag_description
from components.environment import PREVIEW_PROJECT
from components.images import COMPONENTS, image_name
from components.oci import ImageName
from ops import stacks
from tests.pipeline.act import ActRun
from tests.pipeline.github_api import BOT
from tests.pipeline.test_pr_environment import PullRequest, _deployed
from tests.pipeline.world import PULUMI_PROJECT, World

pytestmark = [pytest.mark.pipeline, pytest.mark.slow, pytest.mark.timeout(900)]
GAP = timedelta(seconds=30)


def _left_by_a_crash(world: World, stack: str) -> tuple[str, str]:
    """A marked environment and compose of `stack` on the PR server, with no stack recording them."""
    project = world.projects[PREVIEW_PROJECT]
    with world.owner(world.pr_dokploy) as owner:
        env_marker = marker_for(PULUMI_PROJECT, stack, "Environment", f"{stack}-environment")
        env = owner.post(
            "/environment.create",
            json={
                "name": stack,
                "projectId": project,
                "description": tag_description(f"Finance Report {stack}", env_marker),
            },
        )
        env.raise_for_status()
        env_id = env.json()["environmentId"]
        compose_marker = marker_for(PULUMI_PROJECT, stack, "Compose", f"{stack}-{stack}")
        compose = owner.post(
            "/compose.create",
            json={
                "name": stack,
                "environmentId": env_id,
                "description": tag_description(f"Finance Report {stack}: {stack}", compose_marker),
            },
        )
        compose.raise_for_status()
        return env_id, compose.json()["composeId"]


def _made_by_hand(world: World, name: str) -> str:
    project = world.projects[PREVIEW_PROJECT]
    with world.owner(world.pr_dokploy) as owner:
        env = owner.post("/environment.create", json={"name": name, "projectId": project, "description": "trying"})
        env.raise_for_status()
        return str(env.json()["environmentId"])


def _reap(world: World, inputs: dict[str, Any] | None = None) -> ActRun:
    main = world.sha("main")
    if inputs is None:
        return world.run("reaper.yml", "schedule", {"schedule": "23 3 * * *"}, sha=main, ref="refs/heads/main")
    payload = {"ref": "refs/heads/main", "inputs": inputs, "workflow": "reaper.yml"}
    return world.run("reaper.yml", "workflow_dispatch", payload, sha=main, ref="refs/heads/main")


def _ids(world: World) -> set[str]:
    out: set[str] = set()
    for env in world.composes(PREVIEW_PROJECT).values():
        out.add(env["environmentId"])
        out |= {c["composeId"] for c in env["compose"]}
    return out


def _environment_ids(world: World) -> set[str]:
    with world.owner(world.pr_dokploy) as owner:
        envs = owner.get("/environment.byProjectId", params={"projectId": world.projects[PREVIEW_PROJECT]}).json()
    return {e["environmentId"] for e in envs}


def test_orphans_are_reported_daily_and_deleted_when_asked_hand_made_objects_stay(deploying_world: World) -> None:
    world = deploying_world
    env_id, compose_id = _left_by_a_crash(world, "pr-31")
    by_hand = _made_by_hand(world, "someone-trying-things")

    daily = _reap(world)
    assert daily.jobs == {"reap": "success", "images": "success"}, daily.explain()
    assert {env_id, compose_id} <= _ids(world), "the daily run only reports orphans"
    report = daily.summaries.get("reap", "")
    assert "marker stack `pr-31`: reported (run with delete-orphans to delete)" in report, report

    asked = _reap(world, {"delete-orphans": "true", "dry-run": "false", "stack": ""})
    assert asked.jobs == {"reap": "success", "images": "success"}, asked.explain()
    left = _ids(world) | _environment_ids(world)
    assert env_id not in left and compose_id not in left, world.composes()
    assert by_hand in _environment_ids(world)  # no marker: not ours, never touched
    assert ("reap", "tell the closed PR its environment is gone (or not)") not in {
        k for k, v in asked.steps.items() if v == "success"
    }  # no `stack` input: no PR is told anything


def _last_update(world: World, stack: str) -> datetime:
    """The stack's last update as `pulumi stack ls` reports it (what the reaper's TTL is measured from)."""
    (path,) = (world.root / "state" / "preview" / ".pulumi" / "stacks").rglob(f"{stack}.json")
    return datetime.fromisoformat(json.loads(path.read_text())["checkpoint"]["latest"]["manifest"]["time"])


def _kv(world: World, prefix: str) -> list[str]:
    kv = world.openbao.client().secrets.kv.v2
    try:
        return list(kv.list_secrets(path=prefix, mount_point="secret")["data"]["keys"])
    except hvac.exceptions.InvalidPath:
        return []


def _pr_images(pr: PullRequest) -> list[str]:
    """The image references a PR's environment runs at its head (the model's)."""
    stack = stacks.pr_stack(pr.number)
    env = stacks.environment(stack, stacks.image_tag(stack, pr.head))
    return [env.image(c) for c in COMPONENTS]


def _pr_package(component: str) -> str:
    """`owner/name` of the GHCR package every PR pushes `component` to (the model's)."""
    return ImageName.parse(image_name(stacks.environment(stacks.pr_stack(1)), component)).repository


def test_an_open_pr_idle_past_the_ttl_is_reaped_and_a_fresher_one_is_kept(deploying_world: World) -> None:
    """TTL (ops/reaper.py, ops/reap_images.py): an open PR's stack is reaped once idle longer than
    PR_STACK_TTL_HOURS since its last update, and with it its images in GHCR past that TTL. Two real PR
    deploys at least GAP apart; the TTL, set for this run, falls between their ages. Release, `sha-*` and
    `staging` tags pushed by hand into the PR package before both (so older than the TTL) stay."""
    world = deploying_world
    package = _pr_package("backend")
    by_hand = {tag: world.push_image(package, tag, f"by hand {tag}") for tag in ("v0.9.0", "sha-0123456", "staging")}
    old, fresh = PullRequest(world, 33), PullRequest(world, 34)
    for pr in (old, fresh):
        if pr is fresh:
            time.sleep(GAP.total_seconds())  # the two ages differ by more than GAP: the TTL's margin either side
        pr.push({f"docs/pr-{pr.number}.md": "change\n"}, "a change")
        _deployed(pr, pr.event("opened"))
    stale, kept = _pr_images(old), _pr_images(fresh)
    digests = {ref: world.pulled(ref) for ref in [*stale, *kept]}
    assert all(digests.values()), digests
    first, second = _last_update(world, "pr-33"), _last_update(world, "pr-34")
    assert second - first > GAP, (first, second)
    assert _kv(world, "finance_report/pr-33") and _kv(world, "finance_report/pr-34")
    ttl = datetime.now(UTC) - (first + (second - first) / 2)
    variables = {"PR_STACK_TTL_HOURS": f"{ttl.total_seconds() / 3600:.6f}"}

    main = world.sha("main")
    reap = world.run(
        "reaper.yml", "schedule", {"schedule": "23 3 * * *"}, sha=main, ref="refs/heads/main", variables=variables
    )
    assert reap.jobs == {"reap": "success", "images": "success"}, reap.explain()
    report = reap.summaries.get("reap", "")
    assert (
        "| `pr-33` | reap | PR #33 is open; idle" in report and "| `pr-34` | keep | PR #34 is open; idle" in report
    ), report
    assert old.environment() is None and "pr-33" not in world.stacks("preview")
    assert _kv(world, "finance_report/pr-33") == []
    assert ("pr-33", "environments-admin") in world.github.state.deleted_environments
    assert fresh.environment() is not None and "pr-34" in world.stacks("preview")
    assert _kv(world, "finance_report/pr-34") and "pr-34" in world.github.state.environments
    # GHCR, read back from the registry itself: PR 33's images are gone from both packages, PR 34's and the
    # hand-pushed release/sha/staging tags still pull the same digests; deleted with the job's own token.
    assert [world.pulled(ref) for ref in stale] == [None, None], reap.summaries.get("images", "")
    assert {ref: world.pulled(ref) for ref in kept} == {ref: digests[ref] for ref in kept}
    assert {tag: world.image_digest(package, tag) for tag in by_hand} == by_hand
    tag = stacks.image_tag("pr-33", old.head)
    packages = {_pr_package(c).split("/", 1)[1] for c in COMPONENTS}
    deleted = {(p, by) for p, tags, by in world.github.state.package_deletions if tag in tags}
    assert deleted == {(p, BOT) for p in packages}, deleted
    calls = [r.split("/packages/container/")[1] for r in world.github.state.requests if "/packages/container/" in r]
    listed = {call.split("/")[0] for call in calls}
    assert listed == packages  # the release packages are never even listed
    images_report = reap.summaries.get("images", "")
    assert "`v0.9.0` | keep | also tagged `v0.9.0` (not a PR image)" in images_report, images_report
    assert "PR #34: its stack is kept" in images_report, images_report
