"""One new pr-<N> stack driven through the real CLI for the fault and crash scenarios (issue 16, builds 1, 2, 6).

`PrStack.new(tmp, servers, "pr-41")` makes the stack (its Vault role admitted, config set) and counts the
objects on the Dokploy server before it exists. `converge()` and `destroy()` run `up`/`destroy` at most 3
times, counting the objects after every run: never more than expected (no duplicate), and after `destroy`
nothing of the stack. Every run's output is kept; `leaks()` looks for each of the stack's secrets (read
while it is up: the keys, what it generated in Vault, what its state holds as secrets) in the state, that
output, our logs and the local Dokploy's logs. `record()` writes the scenario's RELIABILITY.md row.

`PrStack.new(..., backend=Backend(...))` puts the stack on a shared backend (the S3 bucket of separate
runners) instead of its copy's own file backend; each copy keeps its own project directory and PULUMI_HOME.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability import report
from tests.reliability.conftest import OWNER_KEY
from tests.reliability.harness import Servers, admit_pr_stack, leak_sweep, stack_secrets
from tests.stacks.clone import LOCAL_PASSPHRASE
from tests.support.pulumi_cli import REPO, PulumiCLI, copy_repo_program

KINDS = ("environments", "composes", "domains")
EXPECTED = {"environments": 1, "composes": 1, "domains": 2}
# The admin's bootstrap and PR admission run one at a time, as one admin runs them (OpenBao's storage fails
# concurrent writes of one path with "transaction commit failed"); stacks made in parallel wait here.
_ADMISSION = threading.Lock()


def counts(servers: Servers) -> dict[str, int]:
    c = servers.dokploy.count_objects()
    return {k: int(c[k]) for k in KINDS}


def left_behind(workdir: Path) -> list[str]:
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


@dataclass(frozen=True)
class Backend:
    """A state backend shared by separate runners: what each runner's `pulumi` gets in its environment (backend
    URL, storage keys, the Vault address and token its secrets provider needs), that provider, and every byte
    the backend holds (read for the leak sweep)."""

    env: Mapping[str, str]
    secrets_provider: str
    text: Callable[[], str]


def record(
    case_id: str, group: str, what: str, runs: str, objects: str, secrets: int, leaks: list[str], message: str
) -> None:
    """A scenario's RELIABILITY.md row (`objects`: expected / found); it fails (after recording) when a secret
    leaked."""
    leaked, result = (f"0 of {secrets} secrets", "pass") if not leaks else (str(len(leaks)), "FAIL")
    report.scenario(case_id, group, what, message, objects=objects, runs=runs, leaks=leaked, result=result)
    assert not leaks, leaks


@dataclass
class PrStack:
    cli: PulumiCLI
    env: dict[str, str]
    stack: str
    servers: Servers
    base: dict[str, int]
    outputs: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    backend: Backend | None = None

    @classmethod
    def new(
        cls,
        tmp: Path,
        servers: Servers,
        stack: str,
        backend: Backend | None = None,
        config: Mapping[str, str] | None = None,
    ) -> PrStack:
        """The stack admitted, initialised (on `backend`, else the copy's own file backend) and configured
        (`config` overrides the defaults below)."""
        with _ADMISSION:
            admit_pr_stack(servers.openbao.address, servers.openbao.root_token, int(stack.split("-")[1]))
        cli = copy_repo_program(tmp)
        cli.extra_env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
        cli.extra_env["DOKPLOY_TIMEOUT_SECONDS"] = "2"
        cli.extra_env.update(backend.env if backend else {})
        cli.run("stack", "init", stack, *(("--secrets-provider", backend.secrets_provider) if backend else ()))
        for key, value in {
            "dokploy:url": servers.dokploy.url,
            "vault:address": servers.openbao.address,
            "financeReport:baseDomain": "localhost.localdomain",
            "financeReport:manageGithub": "false",
            "financeReport:deployTimeoutSeconds": "120",
            **(config or {}),
        }.items():
            cli.run("config", "set", "--stack", stack, "--", key, value)
        env = {"DOKPLOY_API_KEY": OWNER_KEY, "VAULT_TOKEN": servers.openbao.root_token}
        return cls(cli, env, stack, servers, counts(servers), backend=backend)

    def delta(self) -> dict[str, int]:
        now = counts(self.servers)
        return {k: now[k] - self.base[k] for k in KINDS}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = self.cli.run(*args, "--stack", self.stack, "--yes", "--skip-preview", env=self.env, check=False)
        self.outputs.append(proc.stdout + proc.stderr)
        return proc

    def converge(self) -> int:
        """`up` until it succeeds (at most 3 runs); then remember the stack's secrets for `leaks()`."""
        for runs in range(1, 4):
            proc = self.run("up")
            delta = self.delta()
            assert all(delta[k] <= EXPECTED[k] for k in KINDS), f"duplicate after run {runs}: {delta}"
            if proc.returncode == 0:
                assert delta == EXPECTED, delta
                self.secrets |= stack_secrets(self.servers, self.cli, self.stack)
                return runs
        raise AssertionError(f"did not converge in 3 runs:\n{self.outputs[-1][-3000:]}")

    def state_ids(self) -> set[str]:
        deployment = self.cli.export(self.stack)["deployment"]
        assert isinstance(deployment, dict)
        return {str(r["id"]) for r in deployment.get("resources") or [] if r.get("id")}

    def on_server(self) -> set[str]:
        """The ids in the state of objects the Dokploy server still stores."""
        ours = self.state_ids() & set(self.servers.object_ids())
        assert ours, "no object of the state found on the server: a check against it would see nothing"
        return ours

    def dropped(self, ours: set[str]) -> set[str]:
        """Of `ours`, what is still on the server but no longer in the state (a later destroy would leave it)."""
        return (ours & set(self.servers.object_ids())) - self.state_ids()

    def destroy(self) -> int:
        """`destroy` until it succeeds (at most 3 runs); after a failed run nothing was dropped (`dropped`)."""
        ours = self.on_server()
        for runs in range(1, 4):
            if self.run("destroy").returncode == 0:
                assert self.delta() == dict.fromkeys(KINDS, 0)
                return runs
            dropped = self.dropped(ours)
            assert not dropped, f"destroy run {runs} dropped from state what is still on the server: {dropped}"
        raise AssertionError(f"destroy did not finish in 3 runs:\n{self.outputs[-1][-3000:]}")

    def recover(self) -> list[str]:
        """The one documented recovery after a killed `pulumi`: `python -m ops.recover --stack <stack>`."""
        proc = subprocess.run(
            [str(REPO / ".venv" / "bin" / "python"), "-m", "ops.recover", "--stack", self.stack,
             "--cwd", str(self.cli.workdir)],
            cwd=REPO, env={**self.cli.env(), **self.env}, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        self.outputs.append(proc.stdout + proc.stderr)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
        return [line for line in proc.stdout.splitlines() if line]

    def leaks(self) -> list[str]:
        assert self.secrets, "no secrets recorded: converge() first"
        state = self.backend.text() if self.backend else None
        return leak_sweep(self.servers, self.cli, self.secrets, *self.outputs, state=state)

    def record(self, case_id: str, what: str, runs: str, found: dict[str, int], message: str) -> None:
        """The scenario's row; it fails (after recording) when a secret leaked."""
        group = "faults" if "kill" not in case_id else "crash"
        record(case_id, group, what, runs, f"{EXPECTED} / {found}", len(self.secrets), self.leaks(), message)
