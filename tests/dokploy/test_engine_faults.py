"""Issue 4 acceptance 2: under injected faults `up` converges in at most 3 runs and never duplicates.

The local server fails 20 % of procedure calls (5xx, dropped connections, timeouts; fixed seed) and, on
top, commits 20 % of the mutations it does run and then drops the answer. After every run the objects on
the server are counted: at no point is there a second project, environment, compose, domain or deployment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dokploy_local.testing import LocalDokploy
from tests.dokploy.engine import COMPOSE_FILE, EngineRun, needs_pulumi, objects

PROGRAM = f"""
import pulumi
from components.dokploy import Compose, ComposeDeployment, Domain, Environment, Project

project = Project("project", name="finance_report", description="Finance Report")
env = Environment("env", project_id=project.id, name="staging")
compose = Compose(
    "app",
    environment_id=env.id,
    name="app",
    compose_file={COMPOSE_FILE!r},
    env={{"APP_ENV": "staging", "API_TOKEN": pulumi.Config("t").require_secret("token")}},
)
domains = [
    Domain("web", compose_id=compose.id, host="report.local.test", port=3000, service_name="web"),
    Domain("api", compose_id=compose.id, host="report.local.test", path="/api", port=8000, service_name="api"),
]
ComposeDeployment.of("deploy", compose, domains, timeout_seconds=60)
"""

EXPECTED = {"projects": 1, "environments": 2, "composes": 1, "domains": 2, "deployments": 1}


@needs_pulumi
@pytest.mark.engine
@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 2026])
def test_up_converges_under_faults_without_duplicates(tmp_path: Path, dokploy: LocalDokploy, seed: int) -> None:
    run = EngineRun(tmp_path, PROGRAM, dokploy, secrets={"t:token": "faulty-secret-value-42"})
    # A timed-out call answers after 3 s; the client gives up waiting after 1 s.
    run.cli.extra_env["DOKPLOY_TIMEOUT_SECONDS"] = "1"
    dokploy.set_knobs(
        error_rate=0.08, drop_rate=0.08, timeout_rate=0.04, timeout_seconds=3, commit_drop_rate=0.2, seed=seed
    )
    # Engine and provider logs (-v=3, flowed to the provider) are part of the output checked for leaks.
    # (At -v=9 the engine itself logs the config values it sends to providers, secrets included.)
    run.log_args = ("-v=3", "--logtostderr", "--logflow")
    runs = 0
    for runs in range(1, 4):
        proc = run.cli.run("up", "--yes", "--skip-preview", "--stack", "dev", *run.log_args, check=False)
        run.outputs.append(proc.stdout + proc.stderr)
        counts = objects(dokploy)
        assert all(counts[k] <= EXPECTED[k] for k in EXPECTED), f"duplicate after run {runs}: {counts}"
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, f"did not converge in 3 runs:\n{proc.stdout}\n{proc.stderr}"
    assert objects(dokploy) == EXPECTED
    faults = dokploy.counters()["by_outcome"]
    # Faults really happened, lost answers to committed writes among them (how many depends on how many calls a
    # run makes, which the provider keeps small).
    assert sum(n for outcome, n in faults.items() if outcome != "ok") >= 3, faults
    assert faults.get("committed_then_dropped", 0) >= 1, faults

    dokploy.set_knobs(error_rate=0, drop_rate=0, timeout_rate=0, commit_drop_rate=0)
    run.preview("--expect-no-changes")
    run.destroy()
    assert objects(dokploy) == dict.fromkeys(EXPECTED, 0)
    run.writes_since_last()
    run.assert_no_leaks()
    dropped = [e["procedure"] for e in dokploy.requests() if e["outcome"] == "committed_then_dropped"]
    print(f"seed {seed}: converged in {runs} run(s); outcomes {faults}; committed then dropped: {dropped}")
