"""The servers restarted or sealed in the middle of `up` and of `destroy` of a new pr-<N> (issue 16, build 1).

Real CLI, the session's local Dokploy server and OpenBao; each fault is triggered by what the Dokploy request
log shows (no sleeps), at most 3 runs, objects counted after every run (`PrStack`):

- Dokploy restarted while the stack's deployment waits in the queue behind another compose's long build:
  Dokploy keeps its queue in memory, so the job vanishes; the deploy wait notices and deploys again in the same
  run. Restarted while it runs: Dokploy cancels it at its next start; the run fails with one line saying so and
  the next `up` deploys again. After either the compose is deployed and a refreshing preview shows no change
  (no stale "deployed" in the state);
- OpenBao sealed once the first Dokploy write of `up` happened: one line naming the sealed Vault and the fix,
  no traceback; unsealed, the next `up` converges;
- Dokploy restarted, OpenBao restarted, OpenBao sealed, each at the first delete request of `destroy`: it
  finishes in at most 3 runs, and after a failed run nothing still on the server was dropped from the state.
Sealed: the stack reaches OpenBao through a proxy that holds the token mint (up) or revoke (destroy) until the
seal is done, so Vault work is left after the seal whatever order the engine runs the resources in.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import Servers
from tests.reliability.scenario import EXPECTED, PrStack
from tests.reliability.standins import Gate, gated_proxy
from tests.support.pulumi_cli import pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

Entry = dict[str, Any]
SEALED = r"error: Vault at \S+ is sealed; unseal it first"


@contextmanager
def when_logged(servers: Servers, seen: Callable[[list[Entry]], bool], act: Callable[[], None]) -> Iterator[list[int]]:
    """Run `act` once the Dokploy request log (from now on) satisfies `seen`; yields [1] once it ran."""
    seq, fired, stop = servers.last_seq(), [], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if seen(servers.dokploy.requests(seq)):
                act()
                fired.append(1)
                return
            stop.wait(0.05)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        yield fired
    finally:
        stop.set()
        t.join(60)


def first_write(log: list[Entry]) -> bool:
    return any(e.get("kind") == "write" for e in log)


def first_delete(log: list[Entry]) -> bool:
    return any(str(e.get("procedure")).endswith((".delete", ".remove")) for e in log)


def seal(servers: Servers) -> None:
    servers.openbao.client().sys.seal()


def unseal(servers: Servers) -> None:
    servers.openbao.start()  # ops.openbao_server: a running server is unsealed with its key, nothing restarted


PULUMI_OWN = re.compile(r"error: (update|destroy) failed$")  # the engine's summary after any failed resource


def our_errors(output: str) -> set[str]:
    """The distinct error messages of ours (Pulumi repeats a resource's error in its progress line and its
    diagnostics; a traceback would be many)."""
    lines = (line[line.find("error: ") :].strip() for line in output.splitlines() if "error: " in line)
    return {line for line in lines if not PULUMI_OWN.match(line)}


def deployed_and_refreshed(s: PrStack) -> None:
    """The stack's compose is deployed (composeStatus done), and a refreshing preview expects no change: the
    state holds no "deployed" that the server lost."""
    kinds = {i: kind for i, kind in s.servers.object_ids().items() if i in s.state_ids()}
    assert sorted(kinds.values()) == ["domain", "domain", "done", "environment"], kinds
    preview = s.cli.run("preview", "--stack", s.stack, "--refresh", "--expect-no-changes", env=s.env, check=False)
    s.outputs.append(preview.stdout + preview.stderr)
    assert preview.returncode == 0, s.outputs[-1][-3000:]


def test_dokploy_restarted_while_the_deployment_is_queued(tmp_path: Path, servers: Servers) -> None:
    blocker = servers.call("project.create", {"name": "restart-blocker"})
    env_id = blocker["environment"]["environmentId"]
    compose = servers.call("compose.create", {"name": "blocker", "environmentId": env_id})
    s = PrStack.new(tmp_path, servers, "pr-61")
    servers.dokploy.set_knobs(deploy_duration_ms=600_000)  # the restart puts the knobs back (1 s deploys)
    servers.call("compose.deploy", {"composeId": compose["composeId"]})  # a long build: ours waits behind it

    def ours_queued_and_answered(log: list[Entry]) -> bool:
        """Our compose.deploy was answered (the wait's first poll came after it): the job is in the queue."""
        deploy = next((e for e in log if e.get("procedure") == "compose.deploy"), None)
        return deploy is not None and any(
            e.get("procedure") == "deployment.allByCompose" and e["seq"] > deploy["seq"] for e in log
        )

    try:
        with when_logged(servers, ours_queued_and_answered, servers.dokploy.restart) as fired:
            runs = s.converge()
        assert fired, "the restart did not happen: the scenario did not run"
        found = s.delta()
        said = [line for line in s.outputs[0].splitlines() if "vanished from Dokploy's queue" in line]
        assert runs == 1 and said, s.outputs[0][-3000:]  # noticed at a queue read, deployed again, not at the deadline
        deployed_and_refreshed(s)
        destroy_runs = s.destroy()
    finally:
        servers.dokploy.set_knobs(deploy_duration_ms=1000)
        servers.call("project.remove", {"projectId": blocker["project"]["projectId"]})
    s.record(
        "dokploy-restarted-mid-up-queue-lost",
        "Dokploy restarted while pr-61's deployment waited in its queue behind another compose's build",
        f"up {runs}, destroy {destroy_runs}",
        found,
        "the lost deployment was noticed (Dokploy's queue no longer listed it) and deployed again in run 1; compose "
        "done; `preview --refresh` expects no changes; no duplicate; destroy left nothing",
    )


def test_dokploy_restarted_while_the_deployment_runs(tmp_path: Path, servers: Servers) -> None:
    s = PrStack.new(tmp_path, servers, "pr-62")
    servers.dokploy.set_knobs(deploy_duration_ms=600_000)  # the restart puts the knobs back (1 s deploys)

    def ours_running(log: list[Entry]) -> bool:
        return (
            any(e.get("procedure") == "compose.deploy" for e in log)
            and servers.dokploy.count_objects()["running_jobs"] > 0
        )

    try:
        with when_logged(servers, ours_running, servers.dokploy.restart) as fired:
            first = s.run("up")
        assert fired, "the restart did not happen: the scenario did not run"
    finally:
        servers.dokploy.set_knobs(deploy_duration_ms=1000)
    out = s.outputs[-1]
    lines = our_errors(out)
    assert first.returncode != 0 and "Traceback" not in out, out[-3000:]
    assert len(lines) == 1 and re.search(r"'cancelled'.*by a Dokploy restart while it ran", next(iter(lines))), out
    assert all(s.delta()[k] <= EXPECTED[k] for k in EXPECTED), s.delta()
    runs = s.converge()
    found = s.delta()
    deployed_and_refreshed(s)
    destroy_runs = s.destroy()
    s.record(
        "dokploy-restarted-mid-up-deploy-cancelled",
        "Dokploy restarted while pr-62's deployment ran (Dokploy cancels it at its next start)",
        f"up 1 failed + {runs}, destroy {destroy_runs}",
        found,
        f"run 1: {next(iter(lines)).removeprefix('error: ')}; the next up deployed again (compose done); "
        "`preview --refresh` expects no changes; no duplicate; destroy left nothing",
    )


@contextmanager
def vault_gated(s: PrStack, held: str) -> Iterator[Gate]:
    """The stack talks to OpenBao through a proxy that holds the requests whose path contains `held` until the
    gate opens: the seal comes before them, whatever order the engine runs the resources in."""
    with gated_proxy(s.servers.openbao.address, held) as gate:
        s.cli.run("config", "set", "--stack", s.stack, "vault:address", gate.url)
        yield gate


def seal_and_open(servers: Servers, gate: Gate) -> Callable[[], None]:
    def act() -> None:
        seal(servers)
        gate.opened.set()

    return act


def test_openbao_sealed_mid_up(tmp_path: Path, servers: Servers) -> None:
    s = PrStack.new(tmp_path, servers, "pr-63")
    with vault_gated(s, "/auth/token/create/") as gate:  # the service token, minted after its KV secret
        try:
            with when_logged(servers, first_write, seal_and_open(servers, gate)) as fired:
                first = s.run("up")
            assert fired and gate.reached.is_set(), "OpenBao was not sealed before the mint: the scenario did not run"
        finally:
            unseal(servers)
        _sealed_up_then_converge(s, first)


def _sealed_up_then_converge(s: PrStack, first: subprocess.CompletedProcess[str]) -> None:
    out = s.outputs[-1]
    lines = our_errors(out)
    assert first.returncode != 0 and "Traceback" not in out, out[-3000:]
    assert len(lines) == 1 and re.search(SEALED, next(iter(lines))), out[-3000:]
    assert all(s.delta()[k] <= EXPECTED[k] for k in EXPECTED), s.delta()
    runs = s.converge()
    found = s.delta()
    destroy_runs = s.destroy()
    s.record(
        "openbao-sealed-mid-up",
        "OpenBao sealed once the first Dokploy write of up of pr-63 happened, before its token was minted; "
        "unsealed after that run",
        f"up 1 failed + {runs}, destroy {destroy_runs}",
        found,
        f"run 1: {next(iter(lines)).removeprefix('error: ')}; after unsealing, converged with no duplicate; "
        "destroy left nothing",
    )


@dataclass
class Destroyed:
    runs: int  # destroy runs, the first (with the fault) included
    found: dict[str, int]  # the objects after up, before the destroy
    said: str  # the first run's error (our message), or that it finished


def _destroy_with(
    s: PrStack, act: Callable[[], None], after: Callable[[], None] = lambda: None, one_line: str | None = None
) -> Destroyed:
    """Up, then destroy with `act` run at the first delete request and `after` once that run ended; then destroy
    until it finishes. After the first run: no traceback, nothing on the server dropped from the state, and with
    `one_line` exactly one distinct error line of ours matching it."""
    s.converge()
    found, ours = s.delta(), s.on_server()
    with when_logged(s.servers, first_delete, act) as fired:
        first = s.run("destroy")
    after()
    assert fired, "the fault did not happen: the scenario did not run"
    out = s.outputs[-1]
    assert "Traceback" not in out, out[-3000:]
    assert not s.dropped(ours), f"dropped from state, still on the server: {s.dropped(ours)}"
    if first.returncode == 0:
        assert one_line is None, f"destroy finished although it should have stopped: {out[-3000:]}"
        return Destroyed(1, found, "finished in run 1")
    errors = sorted(our_errors(out))
    assert errors and (one_line is None or (len(errors) == 1 and re.search(one_line, errors[0]))), out[-3000:]
    return Destroyed(1 + s.destroy(), found, errors[0].removeprefix("error: "))


@pytest.mark.parametrize(("server", "stack"), [("dokploy", "pr-64"), ("openbao", "pr-65")])
def test_server_restarted_mid_destroy(tmp_path: Path, servers: Servers, server: str, stack: str) -> None:
    s = PrStack.new(tmp_path, servers, stack)
    d = _destroy_with(s, servers.dokploy.restart if server == "dokploy" else servers.openbao.restart)
    name = {"dokploy": "Dokploy", "openbao": "OpenBao"}[server]
    s.record(
        f"{server}-restarted-mid-destroy",
        f"{name} restarted at the first Dokploy delete request of destroy of {stack}",
        f"destroy {d.runs}",
        d.found,
        f"run 1: {d.said}; nothing on the server dropped from state; destroy left nothing",
    )


def test_openbao_sealed_mid_destroy(tmp_path: Path, servers: Servers) -> None:
    s = PrStack.new(tmp_path, servers, "pr-66")
    with vault_gated(s, "/auth/token/revoke-self") as gate:  # the token's delete, after its compose's
        try:
            d = _destroy_with(s, seal_and_open(servers, gate), after=lambda: unseal(servers), one_line=SEALED)
        finally:
            unseal(servers)
        assert gate.reached.is_set(), "the token was not revoked after the seal: the scenario did not run"
    s.record(
        "openbao-sealed-mid-destroy",
        "OpenBao sealed at the first Dokploy delete request of destroy of pr-66; unsealed after that run",
        f"destroy {d.runs}",
        d.found,
        f"run 1 stopped with one line: {d.said}; after unsealing the next destroy finished; nothing on the server "
        "dropped from state; destroy left nothing",
    )
