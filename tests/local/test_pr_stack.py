"""`make up STACK=pr-7` / `make destroy STACK=pr-7`: a PR environment on the local servers (issue 18).

It comes up beside `local` with the local base domain and no GitHub (the environment model's local site, set
in its new Pulumi.pr-7.yaml, which names no server and no credential), shows on the dashboard, and goes away
whole: its Dokploy objects, its Vault secrets, its stack, config and token; `local` is untouched.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.vault.authority import pr_entity
from tests.local.browser import Dashboard
from tests.local.conftest import LocalUp, make
from tests.stacks.clone import Clone, environment_objects
from tests.support.leaks import assert_no_leak

pytestmark = [pytest.mark.engine, pytest.mark.slow]

HOST = "report-pr-7.localhost.localdomain"


def test_make_up_and_destroy_stack_pr_7_on_the_local_servers(local_up: LocalUp, browser: Any) -> None:
    clone = local_up.clone
    local_before = environment_objects(clone.dokploy_snapshot(), "local")

    up = make(clone, "up", "STACK=pr-7")
    assert "Finance Report (pr-7) on this machine - what ran, and what did not:" in up.stdout
    assert up.stdout.rstrip().endswith(f"app          https://{HOST}")
    config = yaml.safe_load((clone.root / "Pulumi.pr-7.yaml").read_text())["config"]
    assert config == {"financeReport:site": "local"}  # no URL, no key: they come from the local servers

    snapshot = clone.dokploy_snapshot()
    mine = environment_objects(snapshot, "pr-7")
    kinds = sorted(k.split(":", 1)[0] for k in mine)
    assert kinds == ["compose", "deployment", "domain", "domain", "environment"], kinds
    assert {v["host"] for k, v in mine.items() if k.startswith("domain:")} == {HOST}
    assert [v["status"] for k, v in mine.items() if k.startswith("deployment:")] == ["done"]
    assert clone.vault_envs() == {"local", "pr-7"}

    dashboard = Dashboard(browser, clone.dokploy_url, clone.dokploy_key, local_up.artefacts)
    dashboard.open("/")
    (compose_id,) = local_up.compose_ids("pr-7").values()
    latest = local_up.latest_deployment(compose_id)
    assert dashboard.latest_in_row(compose_id) == (latest["deploymentId"], "done")
    assert HOST in dashboard.compose_row(compose_id).text
    dashboard.shot("06-overview-with-pr-7")
    dashboard.open(f"/compose/{compose_id}")  # a PR compose's env carries its own Vault token: masked
    assert "VAULT_APP_TOKEN=" in (clone.api("compose.one", composeId=compose_id)["env"] or "")
    assert re.search(r"VAULT_APP_TOKEN\s+•••• hidden", dashboard.section("env"))
    dashboard.shot("07-compose-pr-7")
    assert_no_leak("\n".join(dashboard.pages), local_up.secrets(("local", "pr-7")), "the dashboard's pages")

    make(clone, "destroy", "STACK=pr-7")
    after = clone.dokploy_snapshot()
    assert environment_objects(after, "pr-7") == {}
    assert environment_objects(after, "local") == local_before
    assert clone.vault_envs() == {"local"}
    assert not (clone.root / "Pulumi.pr-7.yaml").exists()
    assert not (clone.openbao_dir / "stack-pr-7.token").exists()
    assert clone.vault().read("identity/entity/name/" + pr_entity(7)) is None  # its Vault identity is retired
    stacks = clone.pulumi("stack", "ls", "--json", env=clone.stack_env()).stdout
    assert '"pr-7"' not in stacks and '"local"' in stacks


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        (
            "staging",
            "local-stack: stack staging is on the hosted site (Pulumi.staging.yaml), not this machine's servers",
        ),
        ("production", "local-stack: stack production is on the hosted site"),
        ("pr-0", "stack pr-0: unknown stack name 'pr-0'; valid stack names: pr-<N>"),
    ],
)
def test_make_up_refuses_a_stack_that_is_not_local_before_anything_starts(
    tmp_path: Path, stack: str, message: str
) -> None:
    clone = Clone.create(tmp_path)
    proc = subprocess.run(
        ["bash", "scripts/up.sh", stack], cwd=clone.root, env=clone.env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and message in proc.stderr, proc.stderr
    assert not (clone.root / ".local").exists()  # no server started, no key made
    assert not list(clone.root.glob("Pulumi.pr-*.yaml"))
