"""Faults and crashes during `up` and `destroy` of a new pr-<N> stack (issue 16, builds 1 and 2).

Real CLI, the session's local Dokploy server and OpenBao. Objects are counted on the server after every
run (the delta from before the stack existed): at no point more than expected, and after the last run
exactly what is expected; after destroy, nothing of the stack. Fixed seeds, at most 3 runs each.

- faults: 20 % of procedure calls fail (5xx, dropped connections, timeouts) and 20 % of the mutations that
  run commit and then lose their answer (seed 11);
- OpenBao restarted in the middle of `up`;
- `pulumi` SIGKILLed once the first Dokploy object exists, in `up` and in `destroy`: the recovery is one
  command, then the same `up`/`destroy` again (ops/recover.py stops the engine children the dead CLI left
  running and runs `pulumi refresh --clear-pending-creates`
  it: `python -m ops.recover --stack <stack>`), nothing is duplicated, and no language host or provider
  process is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.reliability import report
from tests.reliability.conftest import OWNER_KEY
from tests.reliability.harness import Servers, admit_pr_stack
from tests.stacks.clone import LOCAL_PASSPHRASE
from tests.support.leaks import find_leaks
from tests.support.pulumi_cli import PULUMI, REPO, PulumiCLI, copy_repo_program, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

KINDS = ("environments", "composes", "domains")
EXPECTED = {"environments": 1, "composes": 1, "domains": 2}


def _counts(servers: Servers) -> dict[str, int]:
    c = servers.dokploy.count_objects()
    return {k: int(c[k]) for k in KINDS}


def _delta(servers: Servers, base: dict[str, int]) -> dict[str, int]:
    now = _counts(servers)
    return {k: now[k] - base[k] for k in KINDS}


def _stack(tmp: Path, servers: Servers, stack: str) -> tuple[PulumiCLI, dict[str, str]]:
    admit_pr_stack(servers.openbao.address, servers.openbao.root_token, int(stack.split("-")[1]))
    cli = copy_repo_program(tmp)
    cli.extra_env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
    cli.extra_env["DOKPLOY_TIMEOUT_SECONDS"] = "2"
    cli.run("stack", "init", stack)
    for key, value in {
        "dokploy:url": servers.dokploy.url,
        "vault:address": servers.openbao.address,
        "financeReport:baseDomain": "localhost.localdomain",
        "financeReport:manageGithub": "false",
        "financeReport:deployTimeoutSeconds": "120",
    }.items():
        cli.run("config", "set", "--stack", stack, "--", key, value)
    return cli, {"DOKPLOY_API_KEY": OWNER_KEY, "VAULT_TOKEN": servers.openbao.root_token}


def _left_behind(workdir: Path) -> list[str]:
    """Processes still running in the project directory (language host, dynamic provider, pulumi)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if Path(os.readlink(proc / "cwd")) == workdir:
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:80])
        except OSError:
            continue
    return found


def _converge(cli: PulumiCLI, env: dict[str, str], stack: str, servers: Servers, base: dict[str, int]) -> int:
    for runs in range(1, 4):
        proc = cli.run("up", "--stack", stack, "--yes", "--skip-preview", env=env, check=False)
        delta = _delta(servers, base)
        assert all(delta[k] <= EXPECTED[k] for k in KINDS), f"duplicate after run {runs}: {delta}"
        if proc.returncode == 0:
            return runs
    raise AssertionError(f"did not converge in 3 runs:\n{(proc.stdout + proc.stderr)[-3000:]}")


def _destroy(cli: PulumiCLI, env: dict[str, str], stack: str, servers: Servers, base: dict[str, int]) -> int:
    for runs in range(1, 4):
        proc = cli.run("destroy", "--stack", stack, "--yes", "--skip-preview", env=env, check=False)
        if proc.returncode == 0:
            assert _delta(servers, base) == dict.fromkeys(KINDS, 0)
            return runs
    raise AssertionError(f"destroy did not finish in 3 runs:\n{(proc.stdout + proc.stderr)[-3000:]}")


def _row(case_id: str, what: str, runs: str, found: dict[str, int], message: str, leaks: int) -> None:
    report.record(
        report.Row(
            id=case_id,
            group="faults" if "kill" not in case_id else "crash",
            input=what,
            result="pass",
            runs=runs,
            objects=f"{EXPECTED} / {found}",
            duplicates="0",
            leaks=str(leaks),
            message=message,
            section="scenario",
        )
    )


def test_up_and_destroy_converge_under_dokploy_faults(tmp_path: Path, servers: Servers) -> None:
    cli, env = _stack(tmp_path, servers, "pr-41")
    base = _counts(servers)
    servers.dokploy.set_knobs(
        error_rate=0.08, drop_rate=0.08, timeout_rate=0.04, timeout_seconds=3, commit_drop_rate=0.2, seed=11
    )
    try:
        runs = _converge(cli, env, "pr-41", servers, base)
        found = _delta(servers, base)
        assert found == EXPECTED
        destroy_runs = _destroy(cli, env, "pr-41", servers, base)
    finally:
        servers.dokploy.set_knobs(error_rate=0, drop_rate=0, timeout_rate=0, commit_drop_rate=0)
    leaks = find_leaks(cli.state_text(), [OWNER_KEY, servers.openbao.root_token])
    assert not leaks
    _row(
        "faults-20pct-and-commit-then-drop",
        "20 % failed calls (5xx, drops, timeouts) + 20 % commit-then-drop, seed 11; up then destroy of pr-41",
        f"up {runs}, destroy {destroy_runs}",
        found,
        "converged; no duplicate after any run; destroy left nothing",
        len(leaks),
    )


def test_openbao_restarted_mid_up(tmp_path: Path, servers: Servers) -> None:
    cli, env = _stack(tmp_path, servers, "pr-42")
    base = _counts(servers)
    seq = servers.last_seq()

    def restart_when_dokploy_is_written() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if servers.dokploy_writes(seq):
                servers.openbao.restart()
                return
            time.sleep(0.2)

    t = threading.Thread(target=restart_when_dokploy_is_written)
    t.start()
    runs = _converge(cli, env, "pr-42", servers, base)
    t.join()
    found = _delta(servers, base)
    assert found == EXPECTED
    _destroy(cli, env, "pr-42", servers, base)
    _row(
        "openbao-restarted-mid-up",
        "OpenBao restarted once the first Dokploy write of up of pr-42 happened",
        str(runs),
        found,
        "converged; no duplicate; destroy left nothing",
        0,
    )


def _kill_after_first_write(cli: PulumiCLI, env: dict[str, str], args: list[str], servers: Servers) -> list[str]:
    seq = servers.last_seq()
    full_env = {**cli.env(), **env}
    proc = subprocess.Popen(
        [str(PULUMI), "--non-interactive", *args], cwd=cli.workdir, env=full_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not servers.dokploy_writes(seq):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(3)  # what the children do once their engine is gone
    return _left_behind(cli.workdir)


def pending_operations(cli: PulumiCLI) -> int:
    deployment = cli.export("pr-43")["deployment"]
    assert isinstance(deployment, dict)
    return len(deployment.get("pending_operations") or [])


def _recover(cli: PulumiCLI, env: dict[str, str], stack: str) -> list[str]:
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-m", "ops.recover", "--stack", stack, "--cwd", str(cli.workdir)],
        cwd=REPO, env={**cli.env(), **env}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_sigkill_in_up_and_destroy_recovers_without_duplicates(tmp_path: Path, servers: Servers) -> None:
    cli, env = _stack(tmp_path, servers, "pr-43")
    base = _counts(servers)
    left = _kill_after_first_write(cli, env, ["up", "--stack", "pr-43", "--yes", "--skip-preview"], servers)
    said = _recover(cli, env, "pr-43")
    assert _left_behind(cli.workdir) == [], said
    runs = _converge(cli, env, "pr-43", servers, base)
    found = _delta(servers, base)
    assert found == EXPECTED
    assert pending_operations(cli) == 0

    left += _kill_after_first_write(cli, env, ["destroy", "--stack", "pr-43", "--yes", "--skip-preview"], servers)
    said += _recover(cli, env, "pr-43")
    assert _left_behind(cli.workdir) == [], said
    destroy_runs = _destroy(cli, env, "pr-43", servers, base)
    _row(
        "pulumi-killed-in-up-and-destroy",
        "pulumi SIGKILLed at the first Dokploy write of up, then of destroy, of pr-43",
        f"up {runs}, destroy {destroy_runs}, each after `python -m ops.recover`",
        found,
        f"{len(left)} engine process(es) the kills left running, stopped by ops.recover ({' / '.join(said)}); "
        "no duplicate; no pending-operations warning afterwards; destroy left nothing",
        0,
    )
