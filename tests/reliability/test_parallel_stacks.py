"""Ten pr-<N> stacks up in parallel and destroyed in parallel by separate runners (issue 16, build 3).

Each runner is its own copy of the project with its own PULUMI_HOME (`PrStack.new`), all on the preview
bucket of one real S3 server with the preview group's transit key as secrets provider, as CI runners of the
team-state setup are; one local Dokploy server runs their deploys one at a time, each `DEPLOY_MS` long, so
ten of them queue (the runners reach their deploys within seconds of each other: about 20 s of builds).
Every stack has the normal deadline (`financeReport:deployTimeoutSeconds` 120) but `SHORT`, whose deadline
is too short for the queue it meets: its runner starts once `AHEAD` of the others' deploys have been sent,
and the server holds its queue (the `deploy_paused` knob, as behind a hung build) until SHORT's first `up`
has given up, so at least `AHEAD` builds are ahead of it however loaded the machine is (a queue that moves
on was drained in time once, on a busy CI run). It must fail with one line that names Dokploy's deploy
queue, and its next `up` with the normal deadline must finish it; all ten are then destroyed at once.

Then: every stack's objects on the server are exactly its own (its environment, one compose, two domains,
and none of them named in another stack's state), ten times the expected objects and no more, every state
in the bucket and no lock left; after the parallel destroy nothing of any of them is on the server, their
states hold no resources, and none of their secrets is in the bucket, the CLI output or the logs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from ops.stack_files import secrets_provider
from tests.reliability.harness import Servers, stack_secrets
from tests.reliability.scenario import EXPECTED, KINDS, Backend, PrStack, counts, record
from tests.stacks.clone import environment_objects
from tests.support.pulumi_cli import pulumi_available
from tests.support.s3 import S3Server, versitygw_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
    pytest.mark.skipif(not versitygw_available(), reason="run `make test-setup` to build .tools/bin/versitygw"),
]

STACKS = tuple(f"pr-{n}" for n in range(71, 81))
SHORT = STACKS[-1]
SHORT_DEADLINE = 4  # s: the wait reads the queue once (it does after 2 s), then gives up
AHEAD = 2
DEPLOY_MS = 2000
QUEUE = "Dokploy's deploy queue"
A = TypeVar("A")
T = TypeVar("T")


def s3_backend(s3: S3Server, servers: Servers) -> Backend:
    """The preview bucket, with the Vault address and token the transit secrets provider needs."""
    vault = {"VAULT_ADDR": servers.openbao.address, "VAULT_TOKEN": servers.openbao.root_token}
    return Backend(
        env={**s3.pulumi_env("preview"), **vault},
        secrets_provider=secrets_provider(STACKS[0]),
        text=lambda: "\n".join(v.decode(errors="replace") for v in s3.objects("preview").values()),
    )


def in_parallel(fn: Callable[[A], T], items: list[A]) -> list[T]:
    """`fn` of every item at once, one thread each (each runs its own runner's `pulumi`)."""
    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(fn, items))


def our_errors(out: str) -> set[str]:
    """The program's error messages in a CLI run (Pulumi repeats each in its progress line and its diagnostics;
    its own `update failed` summary is not ours)."""
    found = {line[line.find("error: ") :].strip() for line in out.splitlines() if "error: " in line}
    return {e for e in found if e != "error: update failed"}


def dokploy_ids(snapshot: dict[str, object], stack: str) -> set[str]:
    return {k.split(":", 1)[1] for k in environment_objects(snapshot, stack)}


def test_ten_pr_stacks_up_and_destroyed_in_parallel_on_s3(
    tmp_path: Path, servers: Servers, s3_server: S3Server
) -> None:
    started = time.monotonic()
    backend = s3_backend(s3_server, servers)
    base = counts(servers)

    def new(stack: str) -> PrStack:
        short = {"financeReport:deployTimeoutSeconds": str(SHORT_DEADLINE)} if stack == SHORT else None
        return PrStack.new(tmp_path / stack, servers, stack, backend=backend, config=short)

    stacks = in_parallel(new, list(STACKS))
    before = servers.last_seq()
    usual = servers.dokploy.knobs()["deploy_duration_ms"]
    servers.dokploy.set_knobs(deploy_duration_ms=DEPLOY_MS, deploy_paused=True)
    short_first: list[str] = []

    def up(s: PrStack) -> None:
        if s.stack == SHORT:
            deploys_sent(servers, before, AHEAD)
            try:
                first = s.run("up")
            finally:
                servers.dokploy.set_knobs(deploy_paused=False)
            short_first.append(s.outputs[-1])
            assert first.returncode != 0, f"{SHORT} got through the queue within {SHORT_DEADLINE} s"
            s.cli.run("config", "set", "--stack", s.stack, "financeReport:deployTimeoutSeconds", "120")
        proc = s.run("up")
        assert proc.returncode == 0, f"{s.stack}: up failed:\n{s.outputs[-1][-3000:]}"

    try:
        in_parallel(up, stacks)
    finally:
        servers.dokploy.set_knobs(deploy_duration_ms=usual, deploy_paused=False)
    up_seconds = time.monotonic() - started
    up_runs = ", ".join(f"{s.stack} {len(s.outputs)}" for s in stacks if len(s.outputs) != 1) or "none"

    # The short deadline: one line, naming the queue, no traceback.
    (message,) = our_errors(short_first[0])
    assert QUEUE in message and f"deploy queued but not started within {SHORT_DEADLINE} s" in message, message
    assert "Traceback" not in short_first[0]

    # Each stack's objects are its own, and only its own; ten times the expected objects, no duplicate.
    snapshot = servers.snapshot()
    found = {k: counts(servers)[k] - base[k] for k in KINDS}
    expected = {k: len(STACKS) * EXPECTED[k] for k in KINDS}
    assert found == expected
    server_ids = {k.split(":", 1)[1] for k in snapshot if not k.startswith("project:")}
    named: dict[str, set[str]] = {}
    for s in stacks:
        mine = {k: v for k, v in environment_objects(snapshot, s.stack).items() if not k.startswith("deployment:")}
        assert sorted(k.split(":", 1)[0] for k in mine) == ["compose", "domain", "domain", "environment"], mine
        export = s.cli.run("stack", "export", "--stack", s.stack).stdout
        named[s.stack] = {i for i in server_ids if i in export}
        own = dokploy_ids(snapshot, s.stack)  # its deployments too
        assert named[s.stack] <= own, (s.stack, named[s.stack] - own)  # no other stack's object in its state
        assert {k.split(":", 1)[1] for k in mine} <= named[s.stack], s.stack  # and all of its own
        assert not list(s.cli.state_dir.rglob("*.json")), s.stack  # the bucket, not the copy's file backend
        s.secrets |= stack_secrets(servers, s.cli, s.stack)
    for a in stacks:
        for b in stacks:
            assert a is b or not named[a.stack] & named[b.stack], (a.stack, b.stack)
    states = s3_server.objects("preview", ".pulumi/stacks/")
    for stack in STACKS:
        assert any(key.endswith(f"/{stack}.json") for key in states), (stack, sorted(states))
    assert s3_server.objects("preview", ".pulumi/locks/") == {}

    # The parallel destroy: nothing of any of them left, on the server or in their states.
    destroyed = in_parallel(lambda s: s.run("destroy"), stacks)
    for s, proc in zip(stacks, destroyed, strict=True):
        assert proc.returncode == 0, f"{s.stack}: destroy failed:\n{s.outputs[-1][-3000:]}"
    after = servers.snapshot()
    assert all(environment_objects(after, stack) == {} for stack in STACKS)
    assert counts(servers) == base
    for s in stacks:
        deployment = s.cli.export(s.stack).get("deployment")
        resources = deployment.get("resources") if isinstance(deployment, dict) else None
        assert not resources, (s.stack, resources)
    assert s3_server.objects("preview", ".pulumi/locks/") == {}
    wall = time.monotonic() - started

    leaks = [f"{s.stack}: {leak}" for s in stacks for leak in s.leaks()]
    print(f"parallel-10: up phase {up_seconds:.0f} s, total {wall:.0f} s")  # the measured wall time, for the report
    record(
        "parallel-10-pr-stacks-on-s3",
        "parallel",
        f"{len(STACKS)} pr-N stacks (separate runners, one S3 bucket) up then destroyed in parallel; Dokploy builds "
        f"one at a time, {DEPLOY_MS / 1000:.0f} s each; {SHORT} with a {SHORT_DEADLINE} s deadline behind "
        f"at least {AHEAD} held builds",
        f"up 1 each, more than 1: {up_runs}; destroy 1 each",
        f"{expected} / {found}; none left after destroy",
        sum(len(s.secrets) for s in stacks),
        leaks,
        re.sub(r"\s+", " ", message),
    )


def deploys_sent(servers: Servers, since: int, n: int, timeout: float = 300) -> None:
    """Wait until the server has been sent `n` `compose.deploy` calls since `since`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(r.get("procedure") == "compose.deploy" for r in servers.dokploy.requests(since)) >= n:
            return
        time.sleep(0.5)
    raise AssertionError(f"fewer than {n} deploys sent within {timeout} s")
