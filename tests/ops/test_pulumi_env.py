"""What reaches a pulumi child process: an allow-list of the caller's environment, never all of it."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from ops import pulumi_cli

JOB_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/runner",
    "PULUMI_BACKEND_URL": "s3://state/preview",
    "PULUMI_CONFIG_PASSPHRASE": "p",
    "AWS_ACCESS_KEY_ID": "AKIA",
    "AWS_SECRET_ACCESS_KEY": "s",
    "GH_ENVIRONMENTS_TOKEN": "ghp_admin",
    "GITHUB_TOKEN": "ghs_job",
    "VAULT_ADDR": "https://vault",
    "VAULT_TOKEN": "hvs.reaper",
    "DOKPLOY_API_KEY": "dk",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc",
    "ACTIONS_RUNTIME_TOKEN": "rt",
}


def test_state_commands_get_the_backend_and_nothing_else() -> None:
    kept: tuple[str, ...] = ("PATH", "HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")
    kept += ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    assert pulumi_cli.child_env(program=False, secrets=False, source=JOB_ENV) == {k: JOB_ENV[k] for k in kept}
    # opening a stack's secrets (hashivault://) adds the Vault address and token, nothing else
    opening = pulumi_cli.child_env(program=False, secrets=True, source=JOB_ENV)
    assert set(opening) - set(kept) == {"VAULT_ADDR", "VAULT_TOKEN"}


def test_program_runs_get_the_program_credentials_but_never_the_environments_token_or_oidc() -> None:
    env = pulumi_cli.child_env(program=True, source=JOB_ENV)
    assert {"VAULT_TOKEN", "DOKPLOY_API_KEY", "GITHUB_TOKEN"} <= set(env)
    assert not {"GH_ENVIRONMENTS_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN"} & set(env)


def test_the_reapers_commands_run_with_the_state_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in JOB_ENV.items():
        monkeypatch.setenv(k, v)
    seen: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append((argv, kw["env"]))
        return subprocess.CompletedProcess(argv, 0, "[]")

    monkeypatch.setattr(subprocess, "run", fake_run)
    pulumi_cli.stack_ls()
    pulumi_cli.export("pr-7")
    pulumi_cli.remove_state("pr-7")
    assert [argv[2:] for argv, _ in seen] == [
        ["stack", "ls", "--json"],
        ["stack", "export", "--stack", "pr-7"],
        ["stack", "rm", "pr-7", "--force", "--yes"],
    ]
    for _, env in seen:
        assert "GH_ENVIRONMENTS_TOKEN" not in env and "VAULT_TOKEN" not in env and "GITHUB_TOKEN" not in env
