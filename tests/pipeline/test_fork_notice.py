"""pr-fork-notice.yml under act: a fork's PR gets the one fixed notice, from the bot, and nothing else runs."""

from __future__ import annotations

import pytest

from tests.pipeline.events import pull_request
from tests.pipeline.world import World

pytestmark = [pytest.mark.pipeline, pytest.mark.slow]


def test_a_fork_pr_gets_the_notice_and_nothing_else(world: World) -> None:
    head = world.commit("fork-feature", {"README.fork.md": "from a fork\n"}, "a fork's change")
    merge = world.pull_request_refs(41, head)
    fork = {"repo": {"full_name": "someone/finance_report"}}
    world.github.open_pull(41, {"number": 41, "state": "open", "head": fork})
    event = pull_request("opened", 41, head=head, fork="someone/finance_report", base_sha=world.sha("main"))

    notice = world.run("pr-fork-notice.yml", "pull_request_target", event, sha=world.sha("main"), ref="refs/heads/main")
    assert notice.jobs == {"notice": "success"}, notice.explain()
    comments = world.github.state.pr_comments(41)
    assert len(comments) == 1 and comments[0]["user"]["login"] == "github-actions[bot]"
    assert comments[0]["body"].startswith("<!-- finance-report:fork-notice -->")
    assert "skipped for pull requests from forks" in comments[0]["body"]

    # The same-repository workflows skip every job for the fork's PR: no image, no stack, no comment.
    env = world.run("pr-environment.yml", "pull_request", event, sha=merge, ref="refs/pull/41/merge")
    assert set(env.jobs.values()) == {"skipped"}, env.explain()
    if world.has_workflow("pr-preview.yml"):
        preview = world.run("pr-preview.yml", "pull_request", event, sha=merge, ref="refs/pull/41/merge")
        assert preview.jobs == {"preview": "skipped"}, preview.explain()
    if world.has_workflow("pr-target.yml"):  # main's pull_request_target jobs: no admission, no reaper for a fork
        target = world.run("pr-target.yml", "pull_request_target", event, sha=world.sha("main"), ref="refs/heads/main")
        assert set(target.jobs.values()) == {"skipped"} and not target.dispatched, target.explain()
    assert len(world.github.state.pr_comments(41)) == 1
    assert "pr-41" not in world.stacks("preview")
    assert "pr-41" not in world.composes()
