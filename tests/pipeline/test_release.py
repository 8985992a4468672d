"""From a push to main to production, under act: staging.yml, then production.yml for the tag it cut.

staging.yml (push to main): images `sha-<7>` and `staging`, `pulumi up --stack staging`, smoke test, the
next version tagged by the bot (git tag and both images, same digests), production previewed read-only.
production.yml (the tag, pushed by a person): images verified, a saved plan, a reviewer's approval (the
simulated gate: the `production` identity is issued only when the reviewer approves, after reading the
plan), `pulumi up --plan` of exactly that plan, smoke test. A plan changed after it was made is refused.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.environment import PROJECT
from tests.pipeline.act import ActRun
from tests.pipeline.events import push
from tests.pipeline.github_api import RunContext
from tests.pipeline.world import World

pytestmark = [pytest.mark.pipeline, pytest.mark.slow, pytest.mark.timeout(1500)]
IMAGE = "wangzitian0/finance_report"


def _images(env: dict[str, Any]) -> str:
    return "\n".join(str(c.get("composeFile") or "") for c in env["compose"])


@pytest.fixture(scope="module")
def released(world: World) -> dict[str, Any]:
    """One push to main through staging.yml; what it did, for the tests below."""
    world.install_stacks()
    before = world.sha("main")
    sha = world.commit("main", {"docs/release-note.md": "a change on main\n"}, "a change on main")
    run = world.run("staging.yml", "push", push("refs/heads/main", before, sha), sha=sha, ref="refs/heads/main")
    return {"run": run, "sha": sha, "tag": f"sha-{sha[:7]}"}


def test_a_push_to_main_deploys_staging_and_cuts_the_next_release(world: World, released: dict[str, Any]) -> None:
    run, sha, tag = released["run"], released["sha"], released["tag"]
    assert run.jobs == {"images": "success", "deploy": "success", "release": "success"}, run.explain()
    # staging runs the commit's images, on the staging server, in the project the staging stack owns
    staging = world.composes(PROJECT, world.dokploy).get("staging")
    assert staging is not None, world.composes(PROJECT, world.dokploy)
    assert sorted(c["name"] for c in staging["compose"]) == ["app", "postgres", "redis"]
    assert all(c["composeStatus"] == "done" for c in staging["compose"])
    assert f"{IMAGE}-backend:{tag}" in _images(staging)
    assert ("report-staging.zitian.party", "/api/health", 200) in world.edge.app.hits
    assert "staging" in world.stacks("staging")
    # the release: the release App (the tag ruleset's only bypass actor) tagged the commit v0.0.1, and both
    # images carry it with the same digests
    assert ("refs/tags/v0.0.1", sha, world.github.app_login) in world.github.state.refs_created
    assert world.sha("refs/tags/v0.0.1") == sha
    for component in ("backend", "frontend"):
        built = world.image_digest(f"{IMAGE}-{component}", tag)
        assert built and world.image_digest(f"{IMAGE}-{component}", "v0.0.1") == built
        assert world.image_digest(f"{IMAGE}-{component}", "staging") == built
    # nothing exists on production yet: its plan is production.yml's first job, started by the App's tag
    assert "production" not in world.composes(PROJECT, world.dokploy)


def _production(world: World, sha: str, tag: str = "v0.0.1") -> ActRun:
    """A person pushes the release tag (the bot's tag starts nothing): production.yml for that push."""
    return world.run("production.yml", "push", push(f"refs/tags/{tag}", "0" * 40, sha), sha=sha, ref=f"refs/tags/{tag}")


def _plan_reviewer(seen: list[dict[str, Any]]) -> Any:
    def review(run: RunContext, artifacts: dict[str, bytes]) -> bool:
        files = json.loads(artifacts["production-plan"])["files"]
        plan = bytes.fromhex(files[0]["hex"]).decode()
        seen.append({"run": run.run_id, "ref": run.ref, "plan": plan})
        return "v0.0.1" in plan or "sha256:" in plan

    return review


def test_a_tampered_plan_is_refused_and_production_is_untouched(world: World, released: dict[str, Any]) -> None:
    seen: list[dict[str, Any]] = []
    world.github.reviewers["production"] = _plan_reviewer(seen)

    def tamper(run_id: str, name: str, data: bytes) -> bytes:
        payload = json.loads(data)
        plan = bytes.fromhex(payload["files"][0]["hex"]).decode()
        payload["files"][0]["hex"] = plan.replace("report", "rep0rt", 1).encode().hex()
        return json.dumps(payload).encode()

    world.github.tamper = tamper
    try:
        sha = released["sha"]
        run = world.run(
            "production.yml", "push", push("refs/tags/v0.0.1", "0" * 40, sha), sha=sha, ref="refs/tags/v0.0.1"
        )
    finally:
        world.github.tamper = None
    assert run.jobs == {"plan": "success", "deploy": "failure"}, run.explain()
    assert "FAILED" in run.job_log("deploy") or "did NOT match" in run.job_log("deploy"), run.job_log("deploy")
    assert seen == []  # refused before anyone could approve it: the production identity was never asked for
    assert "production" not in world.composes(PROJECT, world.dokploy)


def test_an_approved_release_deploys_exactly_its_plan_to_production(world: World, released: dict[str, Any]) -> None:
    seen: list[dict[str, Any]] = []
    world.github.reviewers["production"] = _plan_reviewer(seen)
    run = _production(world, released["sha"])
    assert run.jobs == {"plan": "success", "deploy": "success"}, run.explain()
    assert [s["ref"] for s in seen] == ["refs/tags/v0.0.1"]  # one approval, of the tag's run, after reading its plan
    production = world.composes(PROJECT, world.dokploy).get("production")
    assert production is not None
    digest = world.image_digest(f"{IMAGE}-backend", "v0.0.1")
    assert f"{IMAGE}-backend@{digest}" in _images(production)  # by digest, the one staging released
    assert ":v0.0.1" not in _images(production)
    assert ("report.zitian.party", "/api/health", 200) in world.edge.app.hits
    assert "production" in world.stacks("production")
