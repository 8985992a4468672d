"""Issue 15 acceptance 3, through the real pulumi CLI against the imitation: the version policy, the body limit,
the deploy-id lookup, a 401 in the middle of a long deploy wait, and a stuck queue reaching its deadline.

One stack lives through all of it (every `pulumi` run costs seconds).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from components.dokploy.deploy import AUTH_RETRY_SECONDS
from dokploy_local.testing import LocalDokploy
from tests.dokploy.engine import EngineRun, needs_pulumi, objects
from tests.support.dokploy import call_api as call

PROGRAM = """
import pulumi
from components.dokploy import Compose, ComposeDeployment, Domain, Environment, Project, preflight

problem = preflight()  # as the stacks do (components/program.py): version and key, before anything is registered
if problem:
    raise pulumi.RunError(problem)
cfg = pulumi.Config("t")
compose_file = "services:\\n  web:\\n    image: nginx:alpine\\n"
project = Project("project", name="finance_report", description="Finance Report")
env = Environment("env", project_id=project.id, name="staging")
revision = "# revision " + (cfg.get("rev") or "1") + "\\n"
compose = Compose("app", environment_id=env.id, name="app", compose_file=compose_file + revision)
web = Domain("web", compose_id=compose.id, host="report.local.test", port=3000, service_name="web")
deployment = ComposeDeployment.of("deploy", compose, [web], timeout_seconds=cfg.get_int("timeout") or 60)
pulumi.export("compose_id", compose.id)
pulumi.export("deployment_id", deployment.deployment_id)
if cfg.get_bool("big"):  # a second service whose compose file is over Dokploy's body limit
    Compose("big", environment_id=env.id, name="big", compose_file=compose_file + "# padding\\n" * 120_000)
"""


def one_line_with(text: str, *needles: str) -> str:
    """The output line carrying all `needles`: the message is one line (provider errors: components/dokploy/base.py)."""
    lines = [line for line in text.splitlines() if all(n in line for n in needles)]
    assert lines, f"no line with {needles} in:\n{text}"
    return lines[0]


def engine_run(tmp_path: Path, dokploy: LocalDokploy) -> EngineRun:
    run = EngineRun(tmp_path, PROGRAM, dokploy, secrets={})
    run.cli.extra_env.update(DOKPLOY_URL=dokploy.url, DOKPLOY_API_KEY=dokploy.api_key)  # for the preflight
    return run


@needs_pulumi
@pytest.mark.engine
@pytest.mark.slow
def test_versions_body_limit_deploy_id_stuck_queue_and_a_401_mid_wait(tmp_path: Path, dokploy: LocalDokploy) -> None:
    run = engine_run(tmp_path, dokploy)

    # The version policy: v0.28.0 refused in preflight, before anything is registered.
    dokploy.set_knobs(dokploy_version="v0.28.0")
    out = run.up(check=False)
    one_line_with(out, "v0.28.0 is not supported", "slash paths")
    assert "Traceback" not in out and objects(dokploy) == dict.fromkeys(objects(dokploy), 0)

    # A newer minor version: a warning, then the deploy, found by the ids before and after the call.
    dokploy.set_knobs(dokploy_version="v0.32.0", deploy_duration_ms=1500)
    out = run.up()
    one_line_with(out, "v0.32.0 is newer than the newest version", "make contract")
    one_line_with(out, "status running", "elapsed", "queue position")  # progress through Pulumi's log
    compose_id = str(run.cli.outputs("dev")["compose_id"])
    rows = call(dokploy, "deployment.allByCompose", composeId=compose_id)
    assert [r["title"] for r in rows] == ["Manual deployment"]  # Dokploy overwrote our title; no id came back
    assert run.cli.outputs("dev")["deployment_id"] == rows[0]["deploymentId"]
    deploys = [e["input"] for e in dokploy.requests() if e["procedure"] == "compose.deploy"]
    assert len(deploys) == 1 and "freshVolumes" not in deploys[0]

    # In one run: a new service over the body limit (refused before sending, naming the field), and a redeploy
    # stuck behind a build elsewhere on the server that does not end (Dokploy runs one deploy at a time).
    created = call(dokploy, "project.create", {"name": "someone-else"})
    other_env = created["environment"]["environmentId"]
    blocker = call(dokploy, "compose.create", {"name": "hung", "environmentId": other_env})
    dokploy.set_knobs(deploy_duration_ms=120_000)
    call(dokploy, "compose.deploy", {"composeId": blocker["composeId"]})
    for key, value in (("t:big", "true"), ("t:timeout", "3"), ("t:rev", "2")):
        run.config(key, value)
    seq = dokploy.requests()[-1]["seq"]
    # --continue-on-error: the big compose's fast failure would otherwise stop the engine before the deploy starts
    out = run.run("up", "--yes", "--skip-preview", "--continue-on-error", check=False)
    one_line_with(out, "over Dokploy's 1 MB body limit", "composeFile")
    sent = dokploy.requests(seq)  # the big file was never sent: no 413, no update of the big compose
    assert [e["status"] for e in sent if e["status"] == 413] == [] and len(str([e["input"] for e in sent])) < 100_000
    line = one_line_with(out, "not started within 3 s", "ahead of it in Dokploy's deploy queue")
    assert f"compose {blocker['composeId']}" in line and "one deploy at a time" in line
    run.writes_since_last()  # what reached the server, deployment.queueList included, is valid against the document
    run.config("t:big", "false")

    # 401s in the middle of a long deploy wait: a short burst is retried (the up goes on); a persistent 401 is the
    # key's rate limit, named, after AUTH_RETRY_SECONDS of polls only (components/dokploy/deploy.py).
    dokploy.restart()  # the in-memory queue goes, as on Dokploy; knobs are back to their start values
    dokploy.set_knobs(deploy_duration_ms=120_000)
    run.config("t:timeout", "120")
    result: dict[str, str] = {}
    up = threading.Thread(target=lambda: result.update(out=run.up(check=False)))
    up.start()
    deadline = time.monotonic() + 60
    while dokploy.count_objects()["running_jobs"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # a few polls of the running deployment
    dokploy.set_knobs(unauthorized_burst=2)  # a short burst: two polls answered 401
    time.sleep(8)  # the polls after it get answers again
    log = dokploy.requests()
    assert up.is_alive() and [e for e in log if e["outcome"] == "unauthorized_burst"]
    assert log[-1]["outcome"] != "unauthorized_burst"
    dokploy.set_knobs(unauthorized_burst=1_000_000)  # from now on a bare 401, as from an exhausted key
    flipped = time.monotonic()
    up.join(AUTH_RETRY_SECONDS + 30)
    assert not up.is_alive() and time.monotonic() - flipped < AUTH_RETRY_SECONDS + 20  # long before the 120 s deadline
    one_line_with(result["out"], "worked earlier in this run", "10 requests per 24 hours", "rateLimitEnabled: false")
    after = dokploy.requests()[len(log) :]
    assert {e["procedure"] for e in after} <= {"deployment.allByCompose"}  # only polls, no write, after the 401s
    assert 0 < len(after) <= AUTH_RETRY_SECONDS / 2
    run.assert_no_leaks()
