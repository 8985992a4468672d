"""The real engine, with no provider plugin installed: `local` works; a stack needing GitHub stops first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.engine_program import PROGRAM, resource_types
from tests.support.pulumi_cli import make_project, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="the Pulumi CLI is built by `make setup`"),
]


def test_local_up_needs_no_provider_plugin(tmp_path: Path) -> None:
    cli = make_project(tmp_path, PROGRAM)
    cli.run("stack", "init", "local")
    cli.up("local")
    assert cli.outputs("local")["refs"] == {
        "backend": "ghcr.io/wangzitian0/finance_report-backend:local",
        "frontend": "ghcr.io/wangzitian0/finance_report-frontend:local",
    }
    assert not list(cli.home.glob("plugins/resource-*"))  # nothing was (or could be) installed


def test_pr_stack_without_the_github_plugin_fails_before_any_resource(tmp_path: Path) -> None:
    cli = make_project(tmp_path, PROGRAM)
    cli.run("stack", "init", "pr-7")
    cli.run("config", "set", "--stack", "pr-7", "financeReport:imageTag", "pr-7-abc1234")
    proc = cli.up("pr-7", check=False)
    assert proc.returncode != 0
    assert "needs the Pulumi 'github' resource plugin v6.15.0" in proc.stdout
    assert "pulumi plugin install resource github v6.15.0" in proc.stdout
    assert resource_types(cli.export("pr-7")) == ["pulumi:pulumi:Stack"]
