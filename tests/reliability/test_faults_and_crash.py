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

import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import Servers
from tests.reliability.scenario import PrStack, left_behind
from tests.support.pulumi_cli import PULUMI, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def test_up_and_destroy_converge_under_dokploy_faults(tmp_path: Path, servers: Servers) -> None:
    s = PrStack.new(tmp_path, servers, "pr-41")
    servers.dokploy.set_knobs(
        error_rate=0.08, drop_rate=0.08, timeout_rate=0.04, timeout_seconds=3, commit_drop_rate=0.2, seed=11
    )
    try:
        runs = s.converge()
        found = s.delta()
        destroy_runs = s.destroy()
    finally:
        servers.dokploy.set_knobs(error_rate=0, drop_rate=0, timeout_rate=0, commit_drop_rate=0)
    s.record(
        "faults-20pct-and-commit-then-drop",
        "20 % failed calls (5xx, drops, timeouts) + 20 % commit-then-drop, seed 11; up then destroy of pr-41",
        f"up {runs}, destroy {destroy_runs}",
        found,
        "converged; no duplicate after any run; destroy left nothing",
    )


def test_openbao_restarted_mid_up(tmp_path: Path, servers: Servers) -> None:
    s = PrStack.new(tmp_path, servers, "pr-42")
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
    runs = s.converge()
    t.join()
    found = s.delta()
    s.destroy()
    s.record(
        "openbao-restarted-mid-up",
        "OpenBao restarted once the first Dokploy write of up of pr-42 happened",
        str(runs),
        found,
        "converged; no duplicate; destroy left nothing",
    )


def _kill_when(s: PrStack, command: str, writes: int = 1, procedure: str | None = None) -> list[str]:
    """SIGKILL `pulumi <command>` once it has made `writes` Dokploy writes (of `procedure`, if given)."""
    seq = s.servers.last_seq()
    proc = subprocess.Popen(
        [str(PULUMI), "--non-interactive", command, "--stack", s.stack, "--yes", "--skip-preview"],
        cwd=s.cli.workdir, env={**s.cli.env(), **s.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def reached() -> bool:
        done = [w for w in s.servers.dokploy_writes(seq) if procedure is None or w.startswith(procedure + " ")]
        return len(done) >= writes

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not reached():
        time.sleep(0.05)
    assert proc.poll() is None, f"pulumi {command} ended before the kill point"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(3)  # what the children do once their engine is gone
    return left_behind(s.cli.workdir)


def pending_operations(s: PrStack) -> int:
    deployment = s.cli.export(s.stack)["deployment"]
    assert isinstance(deployment, dict)
    return len(deployment.get("pending_operations") or [])


@dataclass(frozen=True)
class KillPoints:
    stack: str
    up: dict[str, Any]  # _kill_when's arguments for the kill in `up`
    destroy: dict[str, Any]  # and in `destroy`
    deploy_ms: float | None  # how long a deploy takes on the server meanwhile (None: as it is)
    what: str


KILLS = {
    "pulumi-killed-in-up-and-destroy": KillPoints(
        "pr-43", {}, {}, None, "pulumi SIGKILLed at the first Dokploy write of up, then of destroy, of pr-43"
    ),
    # Later points: `up` killed while it waits for its deployment (queued on Dokploy), destroy after 3 deletes.
    "pulumi-killed-in-deploy-wait-and-mid-destroy": KillPoints(
        "pr-45",
        {"procedure": "compose.deploy"},
        {"writes": 3},
        3000,
        "pulumi SIGKILLed while up waited for its queued deployment, then after the third delete of destroy, of pr-45",
    ),
}


@pytest.mark.parametrize("case_id", list(KILLS))
def test_sigkill_in_up_and_destroy_recovers_without_duplicates(case_id: str, tmp_path: Path, servers: Servers) -> None:
    kill = KILLS[case_id]
    s = PrStack.new(tmp_path, servers, kill.stack)
    duration = servers.dokploy.knobs()["deploy_duration_ms"]
    servers.dokploy.set_knobs(deploy_duration_ms=kill.deploy_ms or duration)
    try:
        left = _kill_when(s, "up", **kill.up)
        said = s.recover()
        assert left_behind(s.cli.workdir) == [], said
        runs = s.converge()
    finally:
        servers.dokploy.set_knobs(deploy_duration_ms=duration)
    found = s.delta()
    assert pending_operations(s) == 0

    left += _kill_when(s, "destroy", **kill.destroy)
    said += s.recover()
    assert left_behind(s.cli.workdir) == [], said
    destroy_runs = s.destroy()
    s.record(
        case_id,
        kill.what,
        f"up {runs}, destroy {destroy_runs}, each after `python -m ops.recover`",
        found,
        f"{len(left)} engine process(es) the kills left running, stopped by ops.recover ({' / '.join(said)}); "
        "no duplicate; no pending-operations warning afterwards; destroy left nothing",
    )
