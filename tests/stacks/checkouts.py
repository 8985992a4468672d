"""Workflow jobs as fresh checkouts: one copy of the repository per job, one shared backend, no passphrase.

A GitHub job starts from a clean checkout: no `Pulumi.<stack>.yaml` the repository does not commit, no
PULUMI_HOME, only the backend (PULUMI_BACKEND_URL) in common with earlier jobs. `Jobs.new()` is that: a
fresh copy of this repository (its program, ops, scripts and committed stack files) with its own PULUMI_HOME,
on the one file backend the jobs share, with no passphrase set, as on a runner.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.pulumi_cli import PULUMI, REPO, VENV, pulumi_env

_IGNORE = shutil.ignore_patterns(
    ".venv", ".tools", ".pulumi-state", ".git", "__pycache__", ".local", "tests", ".mypy_cache", ".ruff_cache"
)


@dataclass
class Run:
    args: list[str]
    code: int
    output: str  # stdout then stderr


@dataclass
class Job:
    root: Path
    home: Path
    state: Path
    env: dict[str, str]
    transcript: list[str] = field(default_factory=list)

    def run(
        self,
        *args: str,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        unset: tuple[str, ...] = (),
        timeout: float = 300,
    ) -> Run:
        full = pulumi_env(home=self.home, state_dir=self.state, passphrase="", drop=("PULUMI_", "VAULT_", "DOKPLOY_"))
        del full["PULUMI_CONFIG_PASSPHRASE"]  # unset, as on a runner (even an empty one counts as set)
        full.update(self.env)
        full.update(env or {})
        for name in unset:
            full.pop(name, None)
        proc = subprocess.run(list(args), cwd=self.root, env=full, capture_output=True, text=True, timeout=timeout)
        run = Run(list(args), proc.returncode, proc.stdout + proc.stderr)
        self.transcript.append(run.output)
        if check and run.code != 0:
            raise AssertionError(f"{' '.join(args)} exited {run.code}\n{run.output[-6000:]}")
        return run

    def pulumi(self, *args: str, **kw: Any) -> Run:
        return self.run(str(PULUMI), "--non-interactive", *args, **kw)

    def ops(self, *args: str, **kw: Any) -> Run:
        return self.run(str(VENV / "bin" / "python"), "-m", "ops", *args, **kw)

    def make(self, *args: str, **kw: Any) -> Run:
        return self.run("make", "--no-print-directory", *args, **kw)

    def stack_file(self, stack: str) -> dict[str, Any]:
        path = self.root / f"Pulumi.{stack}.yaml"
        return dict(yaml.safe_load(path.read_text()) or {}) if path.exists() else {}

    def history(self, stack: str) -> list[dict[str, Any]]:
        return list(json.loads(self.pulumi("stack", "history", "--stack", stack, "--json").output or "[]"))

    def stacks(self) -> set[str]:
        return {str(s["name"]).rsplit("/", 1)[-1] for s in json.loads(self.pulumi("stack", "ls", "--json").output)}


@dataclass
class Jobs:
    tmp: Path
    env: dict[str, str]  # what every job's secrets and variables give it (Vault, Dokploy)
    count: int = 0

    @property
    def state(self) -> Path:
        path = self.tmp / "backend"
        path.mkdir(exist_ok=True)
        return path

    def new(self, env: Mapping[str, str] | None = None, files: Mapping[str, str] | None = None) -> Job:
        """A fresh checkout (with `files` as committed in it) for the next job."""
        self.count += 1
        base = self.tmp / f"job{self.count}"
        root = base / "checkout"
        shutil.copytree(REPO, root, ignore=_IGNORE)
        (root / ".venv").symlink_to(VENV)
        (root / ".tools").symlink_to(REPO / ".tools")
        for rel, text in (files or {}).items():
            (root / rel).write_text(text)
        home = base / "pulumi-home"
        home.mkdir()
        return Job(root=root, home=home, state=self.state, env={**self.env, **(env or {})})
