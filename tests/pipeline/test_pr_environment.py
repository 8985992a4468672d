"""pr-environment.yml under act, one whole workflow run per event, through a PR's life.

What a user checks after each event: the images in the registry, the `pr-<N>` environment on Dokploy (its
ids, the image tag its compose runs, its domain), the stack in the preview backend, the one PR comment (its
text, its author, that it was edited rather than duplicated), which jobs ran or were skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.environment import PREVIEW_PROJECT
from ops import stacks
from tests.pipeline.act import ActRun
from tests.pipeline.events import pull_request
from tests.pipeline.github_api import BOT
from tests.pipeline.world import World, git

pytestmark = [pytest.mark.pipeline, pytest.mark.slow, pytest.mark.timeout(1500)]
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
        """GitHub starts every workflow the event triggers: the base branch's pull_request_target ones
        (pr-target.yml: the PR's admission, or its reaper on close) and then the PR's pull_request ones."""
        if action == "closed":
            self.world.github.state.pulls[self.number]["state"] = "closed"
        event = pull_request(action, self.number, head=self.head, base_sha=self.world.sha("main"))
        self.target: ActRun | None = None
        if self.world.has_workflow("pr-target.yml"):
            main = self.world.sha("main")
            self.target = self.world.run("pr-target.yml", "pull_request_target", event, sha=main, ref="refs/heads/main")
        return self.world.run(workflow, "pull_request", event, sha=self.merge, ref=f"refs/pull/{self.number}/merge")

    def failed_jobs(self, run: ActRun) -> list[str]:
        """Jobs that failed in this event's runs: the PR workflow, pr-target and the runs they dispatched."""
        runs = [run, *run.dispatched, *([self.target, *self.target.dispatched] if self.target else [])]
        return [f"{r.run_id}:{job}" for r in runs for job, result in r.jobs.items() if result == "failure"]

    def environment(self) -> dict[str, Any] | None:
        return self.world.composes(PREVIEW_PROJECT).get(f"pr-{self.number}")

    def comments(self) -> list[dict[str, Any]]:
        return [
            c
            for c in self.world.github.state.pr_comments(self.number)
            if c["body"].startswith("<!-- finance-report:pr-environment -->")
        ]


def _images(tag: str) -> list[str]:
    """The image references the model says a PR environment at `tag` runs (its own packages)."""
    model = stacks.environment(tag.rsplit("-", 1)[0], tag)
    return [model.image(c) for c in ("backend", "frontend")]


def _deployed(pr: PullRequest, run: ActRun) -> None:
    """The PR's images were built and its environment deployed; no job of the event's runs failed."""
    target = f"pr-target: {pr.target.explain()[-4000:]}\n" if pr.target else ""
    assert (run.jobs["images"], run.jobs["deploy"]) == ("success", "success"), target + run.explain()
    assert pr.failed_jobs(run) == [], target + run.explain()


HEALTH = "  financeReport:healthPath: /api/ready\n"


def _staging_section(body: str) -> str:
    """The comment's staging part, which comes after the environment's table."""
    assert "| Run |" in body and "What this PR changes in staging" in body, body
    assert body.index("| Run |") < body.index("What this PR changes in staging")
    return body.split("What this PR changes in staging", 1)[1]


def _runs_tag(env: dict[str, Any], tag: str) -> bool:
    (compose,) = env["compose"]
    text = str(compose.get("composeFile") or "")
    return all(ref in text for ref in _images(tag))


def test_a_pr_comes_up_updates_in_place_goes_away_and_comes_back(deploying_world: World) -> None:
    world = deploying_world
    pr = PullRequest(world, 7)

    # -- opened: images, pr-7 up, smoke test, one comment
    sha1 = pr.push({"docs/pr-7.md": "first change\n"}, "first change")
    tag1 = f"pr-7-{sha1[:7]}"
    opened = pr.event("opened")
    _deployed(pr, opened)
    assert all(world.pulled(ref) for ref in _images(tag1))
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
    # ... and, after the environment's table, what the PR changes in staging: a docs change, nothing
    assert opened.jobs["staging-diff"] == "success", opened.explain()
    staging = _staging_section(comment["body"])
    assert "**no change to staging**" in staging and "without staging's credentials" in staging, staging

    # -- a new commit: the same environment updated in place, the comment edited; it also changes staging's
    # health path, which the edited comment shows as staging's app compose (and its redeploy) to update
    staging_file = git("--git-dir", str(world.origin), "show", "main:Pulumi.staging.yaml", cwd=world.root)
    staging_file = staging_file.replace("config:\n", f"config:\n{HEALTH}", 1)
    sha2 = pr.push({"docs/pr-7.md": "second change\n", "Pulumi.staging.yaml": staging_file}, "second change")
    tag2 = f"pr-7-{sha2[:7]}"
    synced = pr.event("synchronize")
    _deployed(pr, synced)
    env2 = pr.environment()
    assert env2 is not None and _runs_tag(env2, tag2) and not _runs_tag(env2, tag1)
    assert env2["environmentId"] == env["environmentId"]
    assert env2["compose"][0]["composeId"] == compose["composeId"]
    (comment,) = pr.comments()
    assert comment["edits"] == 1 and sha2 in comment["body"] and sha1 not in comment["body"]
    staging = _staging_section(comment["body"])
    assert "**staging: 2 to update, 0 to add, 0 to remove**" in staging, staging
    assert "<code>staging-app</code> (dokploy:Compose): compose_file" in staging
    assert "+      - http://127.0.0.1:8000/api/ready" in staging
    assert len(comment["body"]) < 65_536

    # -- closed: destroyed, stack removed, its GitHub environment deleted, comment updated
    closed = pr.event("closed")
    # the PR workflow builds and deploys nothing on close (skipped, or not started for this event type)
    assert {closed.jobs["images"], closed.jobs["deploy"]} <= {"skipped", "not triggered"}, closed.explain()
    assert pr.failed_jobs(closed) == [], closed.explain()
    assert pr.environment() is None
    assert "pr-7" not in world.stacks("preview")
    assert "pr-7" not in world.github.state.environments
    assert [e for e in world.github.state.deleted_environments if e[0] == "pr-7"], (
        world.github.state.deleted_environments
    )
    (comment,) = pr.comments()
    assert comment["edits"] == 2 and "destroyed" in comment["body"], comment["body"]

    # -- reopened: recreated from scratch at the same commit
    reopened = pr.event("reopened")
    _deployed(pr, reopened)
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
    world.pr_dokploy.set_knobs(deploy_outcome="error")  # the PR server's deployment of the compose fails
    try:
        failed = pr.event("opened")
    finally:
        world.pr_dokploy.set_knobs(deploy_outcome="done")
    assert (failed.jobs["images"], failed.jobs["deploy"]) == ("success", "failure"), failed.explain()
    (comment,) = pr.comments()
    assert "deployment failed" in comment["body"]

    sha = pr.push({"docs/pr-8.md": "a fix\n"}, "next push")
    recovered = pr.event("synchronize")
    _deployed(pr, recovered)
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
        _deployed(pr, pr.event("opened"))
    world.github.state.pulls[9]["state"] = "closed"  # closed on GitHub; no close event reached the workflow

    main = world.sha("main")
    reap = world.run("reaper.yml", "schedule", {"schedule": "23 3 * * *"}, sha=main, ref="refs/heads/main")
    assert reap.jobs == {"reap": "success", "images": "success"}, reap.explain()
    assert closed.environment() is None and "pr-9" not in world.stacks("preview")
    assert ("pr-9", "environments-admin") in world.github.state.deleted_environments
    assert kept.environment() is not None and "pr-10" in world.stacks("preview")
    assert "pr-10" in world.github.state.environments
