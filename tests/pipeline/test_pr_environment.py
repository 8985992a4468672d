"""pr-environment.yml under act, one whole workflow run per event, through a PR's life.

What a user checks after each event: the images in the registry, the `pr-<N>` environment on Dokploy (its
ids, the image tag its compose runs, its domain), the stack in the preview backend, the one PR comment (its
text, its author, that it was edited rather than duplicated), which jobs ran or were skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.environment import PREVIEW_PROJECT
from tests.pipeline.act import ActRun
from tests.pipeline.events import pull_request
from tests.pipeline.github_api import BOT
from tests.pipeline.world import World

pytestmark = [pytest.mark.pipeline, pytest.mark.slow, pytest.mark.timeout(1500)]
IMAGE = "wangzitian0/finance_report"
HOST = "report-pr-{n}.zitian.party"


class PullRequest:
    """A same-repository PR in the world: push commits to its branch and run the workflow for each event."""

    def __init__(self, world: World, number: int) -> None:
        self.world, self.number, self.head = world, number, ""
        self.branch = f"feature-{number}"

    def push(self, files: dict[str, str], message: str) -> str:
        self.head = self.world.commit(self.branch, files, message)
        self.merge = self.world.pull_request_refs(self.number, self.head)
        pull = {"number": self.number, "state": "open", "head": {"ref": self.branch, "sha": self.head}}
        self.world.github.open_pull(self.number, pull)
        return self.head

    def event(self, action: str, workflow: str = "pr-environment.yml") -> ActRun:
        if action == "closed":
            self.world.github.state.pulls[self.number]["state"] = "closed"
        event = pull_request(action, self.number, head=self.head, base_sha=self.world.sha("main"))
        if action != "closed":  # pr-target.yml (main's code) admits the PR's Vault identity first
            main = self.world.sha("main")
            admit = self.world.run("pr-target.yml", "pull_request_target", event, sha=main, ref="refs/heads/main")
            assert admit.jobs == {"admit": "success", "reap": "skipped"}, admit.explain()
        return self.world.run(workflow, "pull_request", event, sha=self.merge, ref=f"refs/pull/{self.number}/merge")

    def environment(self) -> dict[str, Any] | None:
        return self.world.composes(PREVIEW_PROJECT).get(f"pr-{self.number}")

    def comments(self) -> list[dict[str, Any]]:
        return [
            c
            for c in self.world.github.state.pr_comments(self.number)
            if c["body"].startswith("<!-- finance-report:pr-environment -->")
        ]


def _runs_tag(env: dict[str, Any], tag: str) -> bool:
    (compose,) = env["compose"]
    text = str(compose.get("composeFile") or "")
    # PR images live in the PR packages, never the release ones
    return f"{IMAGE}-preview-backend:{tag}" in text and f"{IMAGE}-preview-frontend:{tag}" in text


def test_a_pr_comes_up_updates_in_place_goes_away_and_comes_back(deploying_world: World) -> None:
    world = deploying_world
    pr = PullRequest(world, 7)

    # -- opened: images, pr-7 up, smoke test, one comment
    sha1 = pr.push({"docs/pr-7.md": "first change\n"}, "first change")
    tag1 = f"pr-7-{sha1[:7]}"
    opened = pr.event("opened")
    assert opened.jobs == {"images": "success", "deploy": "success"}, opened.explain()
    assert world.image_digest(f"{IMAGE}-backend", tag1) and world.image_digest(f"{IMAGE}-frontend", tag1)
    env = pr.environment()
    assert env is not None and _runs_tag(env, tag1), world.composes()
    (compose,) = env["compose"]
    assert compose["composeStatus"] == "done"
    assert [d["host"] for d in compose["domains"]] == [HOST.format(n=7)] * 2
    assert "pr-7" in world.stacks("preview")
    assert (HOST.format(n=7), "/api/health", 200) in world.edge.app.hits  # the smoke test reached the app
    (comment,) = pr.comments()
    assert comment["user"]["login"] == BOT
    assert f"https://{HOST.format(n=7)}" in comment["body"] and sha1 in comment["body"]
    assert "smoke test healthy" in comment["body"] and "✅ healthy" in comment["body"]
    assert "pr-7" in world.github.state.environments

    # -- a new commit: the same environment updated in place, the comment edited
    sha2 = pr.push({"docs/pr-7.md": "second change\n"}, "second change")
    tag2 = f"pr-7-{sha2[:7]}"
    synced = pr.event("synchronize")
    assert synced.jobs == {"images": "success", "deploy": "success"}, synced.explain()
    env2 = pr.environment()
    assert env2 is not None and _runs_tag(env2, tag2) and not _runs_tag(env2, tag1)
    assert env2["environmentId"] == env["environmentId"]
    assert env2["compose"][0]["composeId"] == compose["composeId"]
    (comment,) = pr.comments()
    assert comment["edits"] == 1 and sha2 in comment["body"] and sha1 not in comment["body"]

    # -- closed: pr-target.yml (main's code) dispatches the reaper for pr-7; the dispatched run reaps the
    # stack through the APIs, never running the engine on the PR-written state (docs/security.md)
    world.github.state.pulls[7]["state"] = "closed"
    inputs = {"inputs": {"stack": "pr-7", "delete-orphans": False, "dry-run": False}}
    reaped = world.run("reaper.yml", "workflow_dispatch", inputs, sha=world.sha("main"), ref="refs/heads/main")
    assert reaped.jobs == {"reap": "success"}, reaped.explain()
    assert pr.environment() is None
    assert "pr-7" not in world.stacks("preview")

    # -- reopened: recreated from scratch at the same commit
    reopened = pr.event("reopened")
    assert reopened.jobs == {"images": "success", "deploy": "success"}, reopened.explain()
    env3 = pr.environment()
    assert env3 is not None and _runs_tag(env3, tag2)
    assert env3["environmentId"] != env["environmentId"]  # a new environment, not a leftover
    assert "pr-7" in world.stacks("preview")
    (comment,) = pr.comments()
    assert "smoke test healthy" in comment["body"] and comment["user"]["login"] == BOT


def test_a_pr_whose_first_up_failed_recovers_on_the_next_push(deploying_world: World) -> None:
    world = deploying_world
    pr = PullRequest(world, 8)
    pr.push({"docs/pr-8.md": "change\n"}, "a change")
    world.dokploy.set_knobs(deploy_outcome="error")  # Dokploy's deployment of the compose fails
    try:
        failed = pr.event("opened")
    finally:
        world.dokploy.set_knobs(deploy_outcome="done")
    assert failed.jobs == {"images": "success", "deploy": "failure"}, failed.explain()
    (comment,) = pr.comments()
    assert "deployment failed" in comment["body"]

    sha = pr.push({"docs/pr-8.md": "a fix\n"}, "next push")
    recovered = pr.event("synchronize")
    assert recovered.jobs == {"images": "success", "deploy": "success"}, recovered.explain()
    env = pr.environment()
    assert env is not None and _runs_tag(env, f"pr-8-{sha[:7]}") and env["compose"][0]["composeStatus"] == "done"
    (comment,) = pr.comments()
    assert "smoke test healthy" in comment["body"] and sha in comment["body"]


def test_the_reaper_removes_the_stack_of_a_pr_closed_without_its_close_run(deploying_world: World) -> None:
    """A PR closed while its close run never happened (say, cancelled): the daily reaper finds the stack
    of a closed PR, destroys it, removes it and deletes its GitHub environment with the environments token;
    an open PR's stack stays."""
    world = deploying_world
    closed, kept = PullRequest(world, 9), PullRequest(world, 10)
    for pr in (closed, kept):
        pr.push({f"docs/pr-{pr.number}.md": "change\n"}, "a change")
        run = pr.event("opened")
        assert run.jobs["deploy"] == "success", run.explain()
    world.github.state.pulls[9]["state"] = "closed"  # closed on GitHub; no close event reached the workflow

    main = world.sha("main")
    reap = world.run("reaper.yml", "schedule", {"schedule": "23 3 * * *"}, sha=main, ref="refs/heads/main")
    assert reap.jobs == {"reap": "success"}, reap.explain()  # through the APIs, then `stack rm --force`
    assert closed.environment() is None and "pr-9" not in world.stacks("preview")
    assert ("pr-9", "environments-admin") in world.github.state.deleted_environments
    assert kept.environment() is not None and "pr-10" in world.stacks("preview")
    assert "pr-10" in world.github.state.environments
