"""Destroy checks before it deletes (issue 16, build 5), on a throwaway copy of the repository.

`make up` of local, then pr-7 in the shared preview project. Then:
- `make destroy` (local) is refused in one line while pr-7 lives in a project local owns;
- destroy of pr-7 with the Dokploy server down is refused, and with OpenBao down is refused;
each time nothing was written to Dokploy and the stack's state still holds every resource. With the servers
back, pr-7 and then local are destroyed completely. No known secret in the state or any output.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.reliability import report
from tests.stacks.clone import Clone, Run
from tests.stacks.test_local_stack import PR_CONFIG
from tests.support.leaks import find_leaks
from tests.support.pulumi_cli import pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def _up_pr(clone: Clone, stack: str, env: dict[str, str]) -> None:
    clone.pulumi("stack", "init", stack, env=env)
    for key, value in {**PR_CONFIG, "financeReport:imageTag": f"{stack}-abc1234"}.items():
        clone.pulumi("config", "set", "--stack", stack, "--", key, value, env=env)
    for key in ("dokploy:url", "vault:address"):
        value = clone.pulumi("config", "get", "--stack", "local", key, env=env).stdout.strip()
        clone.pulumi("config", "set", "--stack", stack, "--", key, value, env=env)
    clone.pulumi("up", "--stack", stack, "--yes", "--skip-preview", env=env)


def _resource_count(clone: Clone, stack: str, env: dict[str, str]) -> int:
    return len(clone.stack_export(stack)["deployment"].get("resources") or [])


def _refused(run: Run, needle: str) -> str:
    assert run.returncode != 0, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    lines = [line for line in run.stderr.strip().splitlines() if "refused" in line]
    assert len(lines) == 1 and needle in lines[0], run.output[-3000:]
    return lines[0]


def _kill_dokploy(clone: Clone) -> None:
    pid = int((clone.root / ".local" / "dokploy" / "pid").read_text())
    os.kill(pid, signal.SIGTERM)
    subprocess.run(["timeout", "10", "tail", f"--pid={pid}", "-f", "/dev/null"], check=False)


def test_destroy_refuses_what_it_could_not_finish(tmp_path: Path) -> None:
    clone = Clone.create(tmp_path)
    try:
        _scenario(clone)
    finally:
        clone.script("local-servers.sh", "stop", check=False)


def _scenario(clone: Clone) -> None:
    clone.script("up.sh")
    clone.run(
        ".venv/bin/python", "-m", "ops.vault_bootstrap", "--env", "pr-7", "--openbao-dir", ".local/openbao",
        "--no-jwt", "--stack-token-file", ".local/openbao/stack-preview.token",
    )  # fmt: skip
    pr_env = clone.stack_env("stack-preview.token")
    _up_pr(clone, "pr-7", pr_env)
    before = clone.dokploy_snapshot()
    local_count, pr_count = _resource_count(clone, "local", pr_env), _resource_count(clone, "pr-7", pr_env)

    # make destroy of local while pr-7 lives in the preview project local owns.
    seq = clone.last_seq()
    line = _refused(clone.script("stack.sh", "destroy", check=False), "still holds environment(s) pr-7")
    assert clone.writes_since(seq) == [] and clone.dokploy_snapshot() == before
    assert _resource_count(clone, "local", pr_env) == local_count
    _record("destroy-refused-other-stack-in-owned-project", "`make destroy` of local while pr-7 is up", line)

    # destroy of pr-7 with the Dokploy server down.
    _kill_dokploy(clone)
    line = _refused(clone.script("stack.sh", "destroy", "pr-7", env=pr_env, check=False), "cannot connect")
    assert _resource_count(clone, "pr-7", pr_env) == pr_count
    clone.script("local-servers.sh", "start")
    assert clone.dokploy_snapshot() == before
    _record("destroy-refused-dokploy-down", "destroy of pr-7, the Dokploy server stopped", line)

    # destroy of pr-7 with OpenBao down.
    clone.run(".venv/bin/python", "-m", "ops.openbao_server", "stop", "--data-dir", ".local/openbao")
    seq = clone.last_seq()
    line = _refused(clone.script("stack.sh", "destroy", "pr-7", env=pr_env, check=False), "Vault at")
    assert clone.writes_since(seq) == [] and clone.dokploy_snapshot() == before
    assert _resource_count(clone, "pr-7", pr_env) == pr_count
    clone.script("local-servers.sh", "start")
    _record("destroy-refused-vault-down", "destroy of pr-7, OpenBao stopped", line)

    # Servers back: both destroys go through, completely.
    clone.script("stack.sh", "destroy", "pr-7", env=pr_env)
    clone.script("stack.sh", "destroy")
    counts = clone.control("counts")
    assert {k: counts[k] for k in ("projects", "environments", "composes", "domains")} == dict.fromkeys(
        ("projects", "environments", "composes", "domains"), 0
    )
    assert clone.vault_envs() == set()
    secrets = [clone.dokploy_key, (clone.openbao_dir / "root-token").read_text().strip()]
    secrets += [(clone.openbao_dir / f).read_text().strip() for f in ("stack-local.token", "stack-preview.token")]
    leaks = find_leaks(clone.state_text() + "\n".join(clone.transcript), secrets)
    assert not leaks, leaks


def _record(case_id: str, what: str, line: str) -> None:
    report.record(
        report.Row(
            id=case_id,
            group="destroy",
            input=what,
            result="pass",
            objects="unchanged / unchanged (state and server)",
            message=line,
            section="scenario",
        )
    )
