"""The real Pulumi CLI on the S3 backend (versitygw) with Vault transit secrets: the claims
docs/workflows.md's state section makes, each shown here.

Runners are separate work trees and PULUMI_HOMEs sharing only the bucket and the stack file.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest

from components.vault.authority import transit_key
from ops.state_locks import main as state_locks_main
from tests.state.runners import LOCKED, Runner, lock_keys, new_runner, vault_env, wait_for_lock
from tests.support.leaks import Secret, assert_no_leak
from tests.support.pulumi_cli import pulumi_available
from tests.support.s3 import S3Server
from tests.vault.conftest import Authority

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

TOKEN = Secret("s3-backend-stack-secret-0123456789abcdef")
# the GitHub environment whose Vault identity each zone's deploy jobs use (docs/workflows.md)
IDENTITY = {"preview": "pr-7", "staging": "staging"}


def runner(tmp: Path, s3: S3Server, authority: Authority, zone: str) -> Runner:
    """A runner of the zone's deploy job: its read-write state key and its Vault identity."""
    r = new_runner(tmp, s3, zone)
    return r.use(s3.keys[zone], vault_env(authority.address, authority.identity(IDENTITY[zone])))


def decrypt_only_token(authority: Authority, zone: str) -> str:
    """A Vault token allowed to decrypt with the zone's transit key and nothing else."""
    admin, name = authority.admin(), f"state-test-decrypt-{zone}"
    admin.sys.create_or_update_policy(
        name, f'path "transit/decrypt/{transit_key(zone)}" {{ capabilities = ["update"] }}'
    )
    return Secret(admin.auth.token.create(policies=[name], no_default_policy=True, ttl="1h")["auth"]["client_token"])


def init_stack(r: Runner, stack: str, **config: str) -> None:
    r.run("stack", "init", stack, "--secrets-provider", f"hashivault://{transit_key(r.zone)}", "--no-select")
    plain = [arg for k, v in config.items() for arg in ("--plaintext", f"t:{k}={v}")]
    r.run("config", "set-all", "--stack", stack, "--secret", f"t:token={TOKEN}", *plain)


def history(r: Runner, stack: str) -> list[dict[str, object]]:
    return list(json.loads(r.run("stack", "history", "--stack", stack, "--json").stdout or "[]"))


def finish(proc: subprocess.Popen[str], log: Path, timeout: float = 120) -> tuple[int, str]:
    proc.wait(timeout)
    return proc.returncode, log.read_text()


def test_stack_lifecycle_on_s3_with_transit_secrets(tmp_path: Path, s3_server: S3Server, authority: Authority) -> None:
    first = runner(tmp_path / "a", s3_server, authority, "preview")
    init_stack(first, "pr-1", message="from-a")
    first.run("up", "--stack", "pr-1", "--yes", "--skip-preview")

    objects = s3_server.objects("preview")
    assert ".pulumi/stacks/state-test/pr-1.json" in objects
    assert_no_leak("\n".join(v.decode(errors="replace") for v in objects.values()), [TOKEN], "the S3 state")
    state = json.loads(objects[".pulumi/stacks/state-test/pr-1.json"])
    assert (
        state["checkpoint"]["latest"]["secrets_providers"]["state"]["url"] == f"hashivault://{transit_key('preview')}"
    )

    # the next runner (its own home and checkout) reads what the first wrote, and sees nothing to do
    second = runner(tmp_path / "b", s3_server, authority, "preview")
    second.checkout_from(first, "pr-1")
    outputs = second.cli.outputs("pr-1")
    assert outputs["message"] == "from-a" and outputs["token"] == TOKEN
    second.run("preview", "--stack", "pr-1", "--expect-no-changes")

    second.run("destroy", "--stack", "pr-1", "--yes", "--skip-preview")
    second.run("stack", "rm", "pr-1", "--yes")
    assert ".pulumi/stacks/state-test/pr-1.json" not in s3_server.objects("preview")
    assert not lock_keys(s3_server, "preview", "pr-1")


def test_preview_key_is_refused_on_staging_bucket(tmp_path: Path, s3_server: S3Server, authority: Authority) -> None:
    intruder = new_runner(tmp_path, s3_server, "staging").use(
        s3_server.keys["preview"], vault_env(authority.address, authority.identity("pr-7"))
    )
    for args in (("stack", "ls"), ("stack", "init", "staging", "--secrets-provider", "passphrase")):
        proc = intruder.run(*args, check=False)
        assert proc.returncode != 0
        assert "AccessDenied" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert not any("staging" in k for k in s3_server.objects("staging") if k.startswith(".pulumi/stacks/"))


def test_two_runners_racing_up_at_most_one_writes(tmp_path: Path, s3_server: S3Server, authority: Authority) -> None:
    a = runner(tmp_path / "a", s3_server, authority, "staging")
    init_stack(a, "race")  # the lock is held from the start of the update; no hold needed
    b = runner(tmp_path / "b", s3_server, authority, "staging")
    b.checkout_from(a, "race")
    args = ("up", "--stack", "race", "--yes", "--skip-preview")
    procs = [(r.start(*args, log=tmp_path / f"{n}.log"), tmp_path / f"{n}.log") for n, r in (("a", a), ("b", b))]
    results = [finish(p, log) for p, log in procs]

    winners = [out for code, out in results if code == 0]
    losers = [out for code, out in results if code != 0]
    assert len(winners) <= 1, "both runners applied the same stack"
    print(f"race: {len(winners)} of 2 runners applied")
    for out in losers:  # the DIY lock is check, write, recheck: both may lose, and each says why
        assert LOCKED in out and ".pulumi/locks/organization/state-test/race/" in out, out
    assert len(history(a, "race")) == len(winners)
    assert not lock_keys(s3_server, "staging", "race"), "a runner left its lock behind"


def test_second_up_refused_while_one_runs_and_read_only_preview_takes_no_lock(
    tmp_path: Path, s3_server: S3Server, authority: Authority
) -> None:
    a = runner(tmp_path / "a", s3_server, authority, "staging")
    release = tmp_path / "release"
    init_stack(a, "serial", message="held", hold=str(release))
    b = runner(tmp_path / "b", s3_server, authority, "staging")
    b.checkout_from(a, "serial")
    # a preview of staging from outside its deploy job: read-only state key, a Vault token that can only decrypt
    reader = new_runner(tmp_path / "r", s3_server, "staging")
    reader.use(s3_server.keys["staging-read"], vault_env(authority.address, decrypt_only_token(authority, "staging")))
    reader.checkout_from(a, "serial")

    proc = a.start("up", "--stack", "serial", "--yes", "--skip-preview", log=tmp_path / "a.log")
    lock = wait_for_lock(s3_server, "staging", "serial", proc)
    owner = json.loads(s3_server.objects("staging", lock)[lock])
    assert owner["pid"] == proc.pid

    refused = b.run("up", "--stack", "serial", "--yes", "--skip-preview", check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0 and LOCKED in out and f"(pid {proc.pid})" in out and lock in out, out

    preview = reader.run("preview", "--stack", "serial", "--diff", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert lock_keys(s3_server, "staging", "serial") == [lock], "preview wrote a lock"
    assert proc.poll() is None, "the update ended while it was held"

    release.touch()
    code, log = finish(proc, tmp_path / "a.log")
    assert code == 0, log
    assert [h["result"] for h in history(a, "serial")] == ["succeeded"]
    assert a.cli.outputs("serial")["message"] == "held"
    assert not lock_keys(s3_server, "staging", "serial")
    # with the stack free, the read-only key still cannot take the lock, so cannot update
    denied = reader.run("up", "--stack", "serial", "--yes", "--skip-preview", check=False)
    assert denied.returncode != 0 and "AccessDenied" in denied.stdout + denied.stderr, denied.stdout + denied.stderr
    assert len(history(a, "serial")) == 1


def state_locks(r: Runner, stack: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m ops.state_locks` in this process (importing boto3 again per call costs seconds), with the
    runner's backend and key as its environment."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, r.cli.env(), clear=True), redirect_stdout(out), redirect_stderr(err):
        code = state_locks_main(["--stack", stack, "--cwd", str(r.workdir), *extra])
    return subprocess.CompletedProcess(["python", "-m", "ops.state_locks"], code, out.getvalue(), err.getvalue())


def test_killed_runner_leaves_a_lock_that_only_the_stale_check_clears(
    tmp_path: Path, s3_server: S3Server, authority: Authority
) -> None:
    a = runner(tmp_path / "a", s3_server, authority, "staging")
    init_stack(a, "killed", hold=str(tmp_path / "never"))
    proc = a.start("up", "--stack", "killed", "--yes", "--skip-preview", log=tmp_path / "a.log")
    lock = wait_for_lock(s3_server, "staging", "killed", proc)

    alive = state_locks(a, "killed", "--clear-if-stale")
    assert alive.returncode == 1 and f"held: {lock}" in alive.stdout and f"pid {proc.pid}" in alive.stdout, alive
    assert lock_keys(s3_server, "staging", "killed") == [lock], "a live update's lock was cleared"

    os.killpg(proc.pid, signal.SIGKILL)  # the runner dies: CLI, language host and provider at once
    proc.wait(10)
    assert lock_keys(s3_server, "staging", "killed") == [lock]
    b = runner(tmp_path / "b", s3_server, authority, "staging")
    b.checkout_from(a, "killed")
    refused = b.run("up", "--stack", "killed", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and LOCKED in refused.stdout + refused.stderr

    listed = state_locks(b, "killed")
    assert listed.returncode == 0 and f"stale: {lock}" in listed.stdout and f"(pid {proc.pid})" in listed.stdout
    assert lock_keys(s3_server, "staging", "killed") == [lock], "listing must not clear"
    cleared = state_locks(b, "killed", "--clear-if-stale")
    assert cleared.returncode == 0 and f"cleared: {lock}" in cleared.stdout, cleared
    assert not lock_keys(s3_server, "staging", "killed")

    b.run("config", "rm", "--stack", "killed", "t:hold")
    b.run("up", "--stack", "killed", "--yes", "--skip-preview")
    assert b.cli.outputs("killed")["message"] == "hello"


def test_stale_check_keeps_another_hosts_recent_lock(tmp_path: Path, s3_server: S3Server, authority: Authority) -> None:
    a = runner(tmp_path, s3_server, authority, "staging")
    key = ".pulumi/locks/organization/state-test/elsewhere/0b6f.json"
    body = json.dumps({"pid": 4242, "username": "runner", "hostname": "gh-runner-17", "timestamp": _ago(300)})
    s3_server.client("staging").put_object(Bucket="finance-report-state-staging", Key=key, Body=body.encode())
    kept = state_locks(a, "elsewhere", "--clear-if-stale")
    assert kept.returncode == 1 and "runner@gh-runner-17 (pid 4242)" in kept.stdout and "held" in kept.stdout
    assert lock_keys(s3_server, "staging", "elsewhere") == [key]
    kept = state_locks(a, "elsewhere", "--clear-if-stale", "--older-than", "60")
    assert kept.returncode == 1 and lock_keys(s3_server, "staging", "elsewhere") == [key]
    cleared = state_locks(a, "elsewhere", "--clear-if-stale", "--older-than", "4")
    assert cleared.returncode == 0 and not lock_keys(s3_server, "staging", "elsewhere"), cleared


def _ago(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f123Z")


def test_ten_parallel_pr_stacks_by_parallel_runners_do_not_cross(
    tmp_path: Path, s3_server: S3Server, authority: Authority
) -> None:
    numbers = range(101, 111)
    runners = {n: runner(tmp_path / f"pr{n}", s3_server, authority, "preview") for n in numbers}
    init = ("--secrets-provider", f"hashivault://{transit_key('preview')}", "--no-select")
    with ThreadPoolExecutor(len(runners)) as pool:  # each its own stack, no config: the stack name tells them apart
        list(pool.map(lambda n: runners[n].run("stack", "init", f"pr-{n}", *init), numbers))
    started = time.monotonic()
    procs = {
        n: r.start("up", "--stack", f"pr-{n}", "--yes", "--skip-preview", log=tmp_path / f"pr{n}.log")
        for n, r in runners.items()
    }
    results = {n: finish(p, tmp_path / f"pr{n}.log", timeout=240) for n, p in procs.items()}
    elapsed = time.monotonic() - started
    assert all(code == 0 for code, _ in results.values()), {n: out[-800:] for n, (code, out) in results.items() if code}

    with ThreadPoolExecutor(len(runners)) as pool:  # each runner reads its own stack back through the CLI
        outputs = dict(zip(numbers, pool.map(lambda n: runners[n].cli.outputs(f"pr-{n}"), numbers), strict=True))
    assert {n: o["id"] for n, o in outputs.items()} == {n: f"pr-{n}:hello" for n in numbers}
    states = s3_server.objects("preview", ".pulumi/stacks/state-test/")
    for n in numbers:
        resources = json.loads(states[f".pulumi/stacks/state-test/pr-{n}.json"])["checkpoint"]["latest"]["resources"]
        assert [r["urn"] for r in resources if not r["urn"].startswith(f"urn:pulumi:pr-{n}::")] == []
        dynamic = [r["outputs"]["stack"] for r in resources if r["type"] == "pulumi-python:dynamic:Resource"]
        assert dynamic == [f"pr-{n}"]
    assert not [k for k in s3_server.objects("preview", ".pulumi/locks/") if "/pr-1" in k]
    print(f"10 parallel ups on S3: {elapsed:.1f} s")
