"""Issue 4 acceptance 1, 3 and 6 through the real pulumi CLI against the local Dokploy server.

One stack lives through the whole story (each `pulumi` run costs seconds): create, a quiet second preview,
an env change, a failing deploy and its retry, a description change, a parent change, drift made behind
Pulumi's back (env edited, domain deleted, compose deleted), destroy. After every run the mutations that
reached the server are counted and checked against the OpenAPI document; at the end every byte of state
and CLI output is searched for the secrets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.dokploy import dotenv
from dokploy_local.testing import LocalDokploy
from tests.dokploy.engine import COMPOSE_FILE, EngineRun, needs_pulumi, objects
from tests.support.dokploy import call_api as call

PROGRAM = f"""
import pulumi
from components.dokploy import Compose, ComposeDeployment, Domain, Environment, Project

cfg = pulumi.Config("t")
project = Project("project", name="finance_report", description="Finance Report")
production = Environment("production", project_id=project.project_id, adopt_default=True)
envs = {{k: Environment(f"env-{{k}}", project_id=project.project_id, name=f"staging-{{k}}") for k in ("a", "b")}}
compose = Compose(
    "app",
    environment_id=envs[cfg.get("parent") or "a"].environment_id,
    name="app",
    description=cfg.get("description") or "the app",
    compose_file={COMPOSE_FILE!r},
    env={{
        "APP_ENV": cfg.get("app_env") or "one",
        "API_TOKEN": cfg.require_secret("token"),
        "DATABASE_URL": pulumi.Output.concat("postgresql://app:", cfg.require_secret("db_password"), "@db/app"),
        "NEXT_PUBLIC_URL": "https://report.local.test",
    }},
    delete_volumes=True,
)
web = Domain("web", compose_id=compose.compose_id, host="report.local.test", port=3000, service_name="web")
api = Domain("api", compose_id=compose.id, host="report.local.test", path="/api", port=8000, service_name="api")
deployment = ComposeDeployment.of("deploy", compose, [web, api], timeout_seconds=60)
pulumi.export("compose_id", compose.compose_id)
pulumi.export("deployment_id", deployment.deployment_id)
pulumi.export("env", compose.env)
"""

SECRETS = {"t:token": 'tok\'en "quoted" #not-a-comment =eq\nsecond line', "t:db_password": "p@ss/w0rd?&x=1"}


def desired_env(app_env: str = "one") -> dict[str, str]:
    return {
        "APP_ENV": app_env,
        "API_TOKEN": SECRETS["t:token"],
        "DATABASE_URL": f"postgresql://app:{SECRETS['t:db_password']}@db/app",
        "NEXT_PUBLIC_URL": "https://report.local.test",
    }


def live_compose(server: LocalDokploy, run: EngineRun) -> dict[str, object]:
    compose_id = run.resources()["app"]["id"]
    row = call(server, "compose.one", composeId=compose_id)
    assert isinstance(row, dict)
    return row


@needs_pulumi
@pytest.mark.engine
@pytest.mark.slow
def test_lifecycle_through_the_cli(tmp_path: Path, dokploy: LocalDokploy) -> None:
    run = EngineRun(tmp_path, PROGRAM, dokploy, secrets=SECRETS)

    # 1. Create everything (previewed first: checks see unknown ids); a second preview has nothing to do.
    assert "+ 9 to create" in run.preview()
    run.up()
    assert objects(dokploy) == {"projects": 1, "environments": 3, "composes": 1, "domains": 2, "deployments": 1}
    writes = run.writes_since_last()
    assert writes["compose.create"] == 1 and writes["compose.deploy"] == 1 and writes["domain.create"] == 2
    assert writes["environment.create"] == 2  # the default `production` environment is adopted, not created
    row = live_compose(dokploy, run)
    assert dotenv.parse(str(row["env"])) == desired_env() and row["composeFile"] == COMPOSE_FILE
    run.preview("--expect-no-changes")
    assert run.writes_since_last() == {}

    # 2. An env change: one compose update and one deployment.
    run.config("t:app_env", "two")
    run.up()
    assert run.writes_since_last() == {"compose.update": 1, "compose.deploy": 1}
    assert dotenv.parse(str(live_compose(dokploy, run)["env"])) == desired_env("two")

    # 3. A deployment that ends in error fails the update with its id, status and log; the compose stays
    #    saved, and the next `up` deploys again once the server deploys successfully.
    dokploy.set_knobs(deploy_outcome="error")
    run.config("t:app_env", "three")
    failed = run.up(check=False)
    newest = call(dokploy, "deployment.allByCompose", composeId=run.resources()["app"]["id"])
    assert isinstance(newest, list)
    bad = newest[0]
    assert bad["status"] == "error"
    assert bad["deploymentId"] in failed and "status 'error'" in failed and str(bad["logPath"]) in failed
    assert run.writes_since_last() == {"compose.update": 1, "compose.deploy": 1}
    assert dotenv.parse(str(live_compose(dokploy, run)["env"])) == desired_env("three")
    dokploy.set_knobs(deploy_outcome="done")
    run.up()
    assert run.writes_since_last() == {"compose.deploy": 1}
    run.preview("--expect-no-changes")

    # 4. A description change: an update, no deployment (and a preview that says exactly that).
    run.config("t:description", "the app, described")
    preview = run.preview()
    assert "~ 1 to update" in preview and "replace" not in preview and "ComposeDeployment: (update)" not in preview
    run.up()
    assert run.writes_since_last() == {"compose.update": 1}

    # 5. A parent change replaces the compose (and its domains), then deploys the new one.
    run.config("t:parent", "b")
    preview = run.preview()
    assert "+-pulumi-python:dynamic/dokploy:Compose" in preview and "replace" in preview
    run.up()
    writes = run.writes_since_last()
    assert writes["compose.create"] == 1 and writes["compose.delete"] == 1 and writes["compose.deploy"] == 1
    assert writes["domain.create"] == 2
    assert objects(dokploy)["composes"] == 1 and objects(dokploy)["domains"] == 2
    env_b = run.resources()["env-b"]["id"]
    assert live_compose(dokploy, run)["environmentId"] == env_b

    # 6. Drift: env edited and a domain deleted by hand; refresh shows it, the next up restores it.
    compose_id = run.resources()["app"]["id"]
    call(dokploy, "compose.update", {"composeId": compose_id, "env": "APP_ENV=hacked"})
    call(dokploy, "domain.delete", {"domainId": run.resources()["api"]["id"]})
    run.writes_since_last()
    refreshed = run.refresh()
    assert "dokploy:Compose" in refreshed and "dokploy:Domain" in refreshed and "deleted" in refreshed
    run.preview("--expect-no-changes", check=False)
    run.up()
    assert run.writes_since_last() == {"compose.update": 1, "domain.create": 1}
    assert dotenv.parse(str(live_compose(dokploy, run)["env"])) == desired_env("three")
    assert objects(dokploy)["domains"] == 2

    # 7. Drift: the compose deleted by hand (its domains and deployments cascade); up recreates and deploys.
    call(dokploy, "compose.delete", {"composeId": compose_id, "deleteVolumes": False})
    run.writes_since_last()
    refreshed = run.refresh()
    assert refreshed.count("deleted") >= 1
    assert "app" not in run.resources() and "deploy" not in run.resources()
    run.up()
    writes = run.writes_since_last()
    assert writes["compose.create"] == 1 and writes["domain.create"] == 2 and writes["compose.deploy"] == 1
    assert objects(dokploy) == {"projects": 1, "environments": 3, "composes": 1, "domains": 2, "deployments": 1}
    run.preview("--expect-no-changes")

    # 8. Destroy leaves the server empty.
    run.destroy()
    assert objects(dokploy) == {"projects": 0, "environments": 0, "composes": 0, "domains": 0, "deployments": 0}
    run.writes_since_last()
    run.assert_no_leaks()
