"""Pulumi runners on the S3 backend: each its own work tree and PULUMI_HOME, like separate CI runners
or laptops, sharing only the bucket (and the stack file, as a git checkout would).

The program is small on purpose: one Python dynamic resource whose create can be held open until a file
exists (`t:hold`: its path), so a test acts while an update, and its lock, is in progress, then lets it end.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.pulumi_cli import PULUMI, REPO, PulumiCLI, make_project
from tests.support.s3 import S3Key, S3Server

PROVIDER = '''
"""A "remote" object per stack; create waits for the file `hold` (at most 120 s) so an update can be
caught mid-way."""
import pathlib
import time

from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult


class HeldProvider(ResourceProvider):
    def create(self, props):
        deadline = time.monotonic() + 120
        while props.get("hold") and not pathlib.Path(props["hold"]).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return CreateResult(f"{props['stack']}:{props['message']}", dict(props))

    def diff(self, _id, olds, news):
        changed = [k for k in ("message", "stack") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=True)

    def update(self, _id, olds, news):
        return UpdateResult(dict(news))
'''

PROGRAM = """
import pulumi
from pulumi.dynamic import Resource

from held import HeldProvider


class Held(Resource):
    def __init__(self, name, props, opts=None):
        super().__init__(HeldProvider(), name, props, opts)


cfg = pulumi.Config("t")
# `hold` alone never makes a diff (see HeldProvider.diff): it applies to the next create only.
obj = Held("object", {"stack": pulumi.get_stack(), "message": cfg.get("message") or "hello",
                      "hold": cfg.get("hold") or ""})
pulumi.export("id", obj.id)
pulumi.export("message", obj.message)
if cfg.get("token") is not None:
    pulumi.export("token", cfg.require_secret("token"))
"""

LOCKED = "the stack is currently locked"


@dataclass
class Runner:
    cli: PulumiCLI
    server: S3Server
    zone: str

    @property
    def workdir(self) -> Path:
        return self.cli.workdir

    def use(self, key: S3Key, vault_env: dict[str, str]) -> Runner:
        self.cli.extra_env.update(
            PULUMI_BACKEND_URL=self.server.backend_url(self.zone),
            PULUMI_CONFIG_PASSPHRASE="",  # the transit key alone guards the secrets
            **key.env(),
            **vault_env,
        )
        return self

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.cli.run(*args, check=check, timeout=timeout)

    def start(self, *args: str, log: Path) -> subprocess.Popen[str]:
        """`pulumi <args>` in the background, in its own process group (so a test can kill the whole runner)."""
        out = log.open("w")
        return subprocess.Popen(
            [str(PULUMI), "--non-interactive", *args],
            cwd=self.workdir,
            env=self.cli.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def checkout_from(self, other: Runner, stack: str) -> None:
        """The stack file as another runner committed it (DIY backends keep config in the work tree)."""
        shutil.copy(other.workdir / f"Pulumi.{stack}.yaml", self.workdir / f"Pulumi.{stack}.yaml")


def new_runner(tmp: Path, server: S3Server, zone: str) -> Runner:
    cli = make_project(tmp, PROGRAM, name="state-test", files={"held.py": PROVIDER})
    return Runner(cli, server, zone)


def vault_env(address: str, token: str) -> dict[str, str]:
    return {"VAULT_ADDR": address, "VAULT_SERVER_URL": address, "VAULT_TOKEN": token, "VAULT_SERVER_TOKEN": token}


def lock_keys(server: S3Server, zone: str, stack: str) -> list[str]:
    return sorted(k for k in server.objects(zone, ".pulumi/locks/") if f"/{stack}/" in k)


def wait_for_lock(server: S3Server, zone: str, stack: str, proc: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = lock_keys(server, zone, stack)
        if keys:
            return keys[0]
        if proc.poll() is not None:
            raise AssertionError(f"the update ended (exit {proc.returncode}) before its lock was seen")
        time.sleep(0.2)
    raise AssertionError(f"no lock object for {stack} appeared within {timeout} s")


def run_ops(module: str, *args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m ops.<module> <args>` as an operator runs it, with a runner's environment (its PATH finds
    .tools/bin/pulumi; its backend and keys are the runner's)."""
    return subprocess.run(
        [sys.executable, "-m", f"ops.{module}", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
