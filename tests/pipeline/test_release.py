"""From a push to main to production, then drift, under act: staging.yml, production.yml, drift.yml.

staging.yml (push to main): images `sha-<7>` and `staging`, `pulumi up --stack staging`, smoke test, the
next version tagged (git tag and both images, same digests).
production.yml (the release tag): images verified, a saved plan, a reviewer's approval (the simulated
gate: the `production` identity is issued only when the reviewer approves, after reading the plan),
`pulumi up --plan` of exactly that plan, smoke test. A plan changed after it was made is refused.
drift.yml (schedule, from main): clean; a change made by hand on Dokploy opens one issue; clean again closes it.
Last, a second change on main releases v0.0.2, whose production app answers 503: the smoke test fails and
names v0.0.1, the release the production stack ran, and the command that deploys it again.

The whole sequence is one flow (`release_flow`), started in the background as soon as the session's world
is up, so it overlaps with the PR scenarios (they use the other Dokploy server). Each step records what a
user would look at right then; the tests assert on those records.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.environment import PROJECT
from ops import stacks
from tests.pipeline.act import ActRun
from tests.pipeline.events import push
from tests.pipeline.github_api import RunContext
from tests.pipeline.world import RELEASE_APP, REPOSITORY, World

pytestmark = [pytest.mark.pipeline, pytest.mark.slow, pytest.mark.timeout(1800)]
SCHEDULE = {"schedule": "41 5 * * *"}


def _images(env: dict[str, Any] | None) -> str:
    return "\n".join(str(c.get("composeFile") or "") for c in (env or {}).get("compose", []))


def _production(world: World, sha: str, tag: str, variables: dict[str, str] | None = None) -> ActRun:
    """production.yml for the push of the release tag."""
    event = push(f"refs/tags/{tag}", "0" * 40, sha)
    return world.run("production.yml", "push", event, sha=sha, ref=f"refs/tags/{tag}", variables=variables)


def _release(world: World, change: str) -> tuple[ActRun, str, str | None]:
    """A change pushed to main and staging.yml for that push: (the run, the commit, the release tag it cut)."""
    before = world.sha("main")
    sha = world.commit("main", {f"docs/{change}.md": f"{change}\n"}, f"a change on main: {change}")
    run = world.run("staging.yml", "push", push("refs/heads/main", before, sha), sha=sha, ref="refs/heads/main")
    return run, sha, next((t for t in world.tags() if world.sha(f"refs/tags/{t}") == sha), None)


def _running_release(world: World) -> str | None:
    """The image tag of production's newest successful update, read from its backend's history files."""
    history = world.root / "state" / "production" / ".pulumi" / "history"
    for path in sorted(history.rglob("production-*.history.json"), reverse=True):  # named by time
        entry = json.loads(path.read_text())
        if entry.get("kind") == "update" and entry.get("result") == "succeeded":
            return str(entry.get("config", {}).get("financeReport:imageTag"))
    return None


def _broken_release(world: World) -> dict[str, Any]:
    """The next release, with production's app answering 503 once deployed (made broken only for this run,
    so nothing after it sees a broken host). The smoke test waits one round (SMOKE_DEADLINE_SECONDS)."""
    staging, sha, version = _release(world, "second-change")
    out: dict[str, Any] = {"staging": staging, "version": version}
    if version is None:
        return out
    out["running"] = _running_release(world)
    host = stacks.environment("production", version).host
    world.edge.app.broken.add(host)
    try:
        run = _production(world, sha, version, variables={"SMOKE_DEADLINE_SECONDS": "1"})
    finally:
        world.edge.app.broken.discard(host)
    out |= {"run": run, "host": host, "hits": list(world.edge.app.hits)}
    return out


def _reviewer(seen: list[dict[str, Any]]) -> Any:
    """The production reviewer: reads the saved plan of the run and approves it if it deploys the release."""

    def review(run: RunContext, artifacts: dict[str, bytes]) -> bool:
        files = json.loads(artifacts["production-plan"])["files"]
        plan = bytes.fromhex(files[0]["hex"]).decode()
        seen.append({"run": run.run_id, "ref": run.ref, "plan": plan})
        return "sha256:" in plan

    return review


def _tamper(run_id: str, name: str, data: bytes) -> bytes:
    """Someone with write access to the artifact storage edits the plan after it was made."""
    payload = json.loads(data)
    plan = bytes.fromhex(payload["files"][0]["hex"]).decode()
    payload["files"][0]["hex"] = plan.replace("report", "rep0rt", 1).encode().hex()
    return json.dumps(payload).encode()


def _drift(world: World) -> ActRun:
    main = world.sha("main")
    return world.run("drift.yml", "schedule", dict(SCHEDULE), sha=main, ref="refs/heads/main")


def _drift_issues(world: World) -> list[dict[str, Any]]:
    return [i for i in world.github.state.issues if str(i.get("body", "")).startswith("<!-- finance-report:drift -->")]


def release_flow(world: World) -> dict[str, Any]:
    out: dict[str, Any] = {}
    world.install_stacks()
    staging_run, sha, version = _release(world, "release-note")
    tag = stacks.image_tag("staging", sha)
    staging_model = stacks.environment("staging", tag)
    out["staging"] = {
        "run": staging_run,
        "sha": sha,
        "tag": tag,
        "images": {c: world.pulled(staging_model.image(c)) for c in ("backend", "frontend")},
        "env": world.composes(PROJECT, world.dokploy).get("staging"),
        "tags": world.tags(),
        "refs_created": list(world.github.state.refs_created),
        "stacks": world.stacks("staging"),
    }
    out["version"] = version
    if staging_run.jobs.get("release") != "success" or version is None:
        return out
    released = stacks.environment("production", version)
    out["release_images"] = {c: world.pulled(released.image(c)) for c in ("backend", "frontend")}

    seen: list[dict[str, Any]] = []
    world.github.reviewers["production"] = _reviewer(seen)
    world.github.tamper = _tamper
    try:
        tampered = _production(world, sha, version)
    finally:
        world.github.tamper = None
    out["tampered"] = {
        "run": tampered,
        "seen": list(seen),
        "env": world.composes(PROJECT, world.dokploy).get("production"),
    }

    approved = _production(world, sha, version)
    out["approved"] = {
        "run": approved,
        "seen": list(seen),
        "env": world.composes(PROJECT, world.dokploy).get("production"),
    }
    out["stacks"] = {"production": world.stacks("production")}
    if approved.jobs.get("deploy") != "success":
        return out

    clean = _drift(world)
    out["drift_clean"] = {"run": clean, "issues": [dict(i) for i in _drift_issues(world)]}
    # Someone edits staging's app compose on Dokploy by hand.
    app = next(c for c in world.composes(PROJECT, world.dokploy)["staging"]["compose"] if c["name"] == "app")
    with world.owner() as owner:
        owner.post(
            "/compose.update", json={"composeId": app["composeId"], "description": "edited by hand"}
        ).raise_for_status()
    drifted = _drift(world)
    out["drifted"] = {"run": drifted, "issues": [dict(i) for i in _drift_issues(world)]}
    with world.owner() as owner:  # put it back as the stack left it
        owner.post(
            "/compose.update", json={"composeId": app["composeId"], "description": app["description"]}
        ).raise_for_status()
    again = _drift(world)
    out["clean_again"] = {"run": again, "issues": [dict(i) for i in _drift_issues(world)]}
    out["broken"] = _broken_release(world)  # last: production runs the broken release from here on
    return out


@pytest.fixture(scope="module")
def flow(world: World) -> dict[str, Any]:
    return dict(world.flow("release", release_flow))


def test_a_push_to_main_deploys_staging_and_cuts_the_next_release(flow: dict[str, Any]) -> None:
    staging = flow["staging"]
    run = staging["run"]
    assert {j: r for j, r in run.jobs.items() if j in ("images", "deploy", "release")} == {
        "images": "success",
        "deploy": "success",
        "release": "success",
    }, run.explain()
    env = staging["env"]
    assert env is not None
    assert sorted(c["name"] for c in env["compose"]) == ["app", "postgres", "redis"]
    assert all(c["composeStatus"] == "done" for c in env["compose"])
    model = stacks.environment("staging", staging["tag"])
    assert model.image("backend") in _images(env) and model.image("frontend") in _images(env)
    assert all(staging["images"].values())
    assert "staging" in staging["stacks"]
    # the release: the commit is tagged v0.0.1 in git, and both images carry it with the same digests
    assert flow["version"] == "v0.0.1"
    tagged = next(r for r in staging["refs_created"] if r[0] == "refs/tags/v0.0.1")
    assert tagged[1] == staging["sha"] and tagged[2] == RELEASE_APP  # the tag ruleset's only bypass actor
    assert flow["release_images"] == staging["images"]


def test_a_tampered_plan_is_refused_and_production_is_untouched(flow: dict[str, Any]) -> None:
    tampered = flow["tampered"]
    run = tampered["run"]
    assert run.jobs == {"plan": "success", "deploy": "failure"}, run.explain()
    steps = {step: outcome for (job, step), outcome in run.steps.items() if job == "deploy"}
    assert steps.get("fetch the approved plan and check it is the one planned") == "failure", steps
    assert steps.get("Vault login (production)") in (None, "skipped"), steps
    assert steps.get("pulumi up --plan (what was approved is what runs)") in (None, "skipped"), steps
    assert tampered["seen"] == []  # refused before the production identity was ever asked for
    assert tampered["env"] is None or not _images(tampered["env"])


def test_an_approved_release_deploys_exactly_its_plan_to_production(world: World, flow: dict[str, Any]) -> None:
    approved = flow["approved"]
    run = approved["run"]
    assert run.jobs == {"plan": "success", "deploy": "success"}, run.explain()
    assert [s["ref"] for s in approved["seen"]] == ["refs/tags/v0.0.1"]  # one approval, after reading the plan
    env = approved["env"]
    assert env is not None and all(c["composeStatus"] == "done" for c in env["compose"])
    digest = flow["release_images"]["backend"]
    backend = stacks.environment("production", "v0.0.1").image_repository + "-backend"
    assert f"{backend}@{digest}" in _images(env)  # by digest: exactly what staging released
    assert ":v0.0.1" not in _images(env)
    assert ("report.zitian.party", "/api/health", 200) in world.edge.app.hits
    assert "production" in flow["stacks"]["production"]


def test_drift_opens_one_issue_and_a_clean_check_closes_it(flow: dict[str, Any]) -> None:
    clean, drifted, again = flow["drift_clean"], flow["drifted"], flow["clean_again"]
    assert clean["run"].jobs == {"staging": "success", "production": "success", "issue": "success"}, clean[
        "run"
    ].explain()
    assert [i for i in clean["issues"] if i["state"] == "open"] == []
    assert drifted["run"].jobs["issue"] == "failure", drifted["run"].explain()  # drift fails the check run
    (issue,) = drifted["issues"]
    assert issue["state"] == "open" and issue["user"]["login"] == "github-actions[bot]"
    assert "| `staging` | drift |" in issue["body"] and "| `production` | clean |" in issue["body"]
    (closed,) = again["issues"]
    assert closed["number"] == issue["number"] and closed["state"] == "closed", (closed, again["run"].explain())
    assert again["run"].jobs["issue"] == "success", again["run"].explain()


def test_a_failed_production_smoke_test_names_the_previous_release_and_its_rollback(flow: dict[str, Any]) -> None:
    """v0.0.1 runs in production; v0.0.2 deploys, but its app answers 503: the deploy job fails at the smoke
    test, whose error and summary name v0.0.1 (read from the production stack by the plan job) and the
    command that deploys it again."""
    broken = flow["broken"]
    assert broken["version"] == "v0.0.2", broken["staging"].explain()
    run = broken["run"]
    assert run.jobs == {"plan": "success", "deploy": "failure"}, run.explain()
    deploy = {step: outcome for (job, step), outcome in run.steps.items() if job == "deploy"}
    smoke = "smoke test (a failure names the previous release and the rollback)"
    assert [step for step, outcome in deploy.items() if outcome == "failure"] == [smoke], deploy
    assert deploy["pulumi up --plan (what was approved is what runs)"] == "success"
    # `previous` is what the production stack last applied, as the plan job read it from the stack's history
    assert broken["running"] == "v0.0.1"
    plan = {step: outcome for (job, step), outcome in run.steps.items() if job == "plan"}
    assert plan["the release production runs now (for the rollback hint)"] == "success", plan
    assert "value=v0.0.1" in run.job_log("plan"), run.job_log("plan")[-4000:]
    rollback = f"`gh workflow run production.yml --repo {REPOSITORY} --ref v0.0.1 -f version=v0.0.1`"
    note = "Smoke test of production at v0.0.2 failed. The previously running release was v0.0.1. "
    (error,) = [(step, msg) for job, step, level, msg in run.annotations if job == "deploy" and level == "error"]
    assert error[0] == smoke and note in error[1] and error[1].endswith(rollback), error
    summary = run.summaries.get("deploy", "")
    assert "### Smoke test of `production`: unhealthy" in summary, summary
    assert f"> [!CAUTION]\n> {note}" in summary and rollback in summary, summary
    assert (broken["host"], "/api/health", 503) in broken["hits"]  # what the smoke test saw: the broken app
