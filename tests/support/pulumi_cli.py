"""Drive the real `pulumi` CLI (.tools/bin/pulumi) against a throwaway file backend.

Every engine test uses this: it isolates PULUMI_HOME and the backend per test, turns off plugin
downloads (nothing can be fetched here), and puts the project's virtualenv and tools on PATH so the
Python language host and the dynamic-provider plugin are found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO / ".tools" / "bin"
VENV = REPO / ".venv"
PULUMI = TOOLS_BIN / "pulumi"
PASSPHRASE = "finance-report-tests"


def pulumi_available() -> bool:
    return PULUMI.exists()


def pulumi_env(*, home: Path, state_dir: Path, passphrase: str, drop: tuple[str, ...] = ("PULUMI_",)) -> dict[str, str]:
    """The environment of a `pulumi` run: this repository's tools and virtualenv first on PATH, its own
    PULUMI_HOME and file backend, no update check or plugin download, and none of the caller's variables
    that start with one of `drop`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        PATH=f"{TOOLS_BIN}:{VENV / 'bin'}:{env.get('PATH', '')}",
        PULUMI_HOME=str(home),
        PULUMI_BACKEND_URL=f"file://{state_dir}",
        PULUMI_CONFIG_PASSPHRASE=passphrase,
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
        PULUMI_PYTHON_CMD=str(VENV / "bin" / "python"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@dataclass
class PulumiCLI:
    """One project directory, one backend, one PULUMI_HOME."""

    workdir: Path
    state_dir: Path
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = pulumi_env(home=self.home, state_dir=self.state_dir, passphrase=PASSPHRASE)
        env.update(self.extra_env)
        return env

    def run(
        self,
        *args: str,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        timeout: float = 600,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = self.env()
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [str(PULUMI), "--non-interactive", *args],
            cwd=self.workdir,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and proc.returncode != 0:
            command = " ".join(args)
            raise AssertionError(
                f"pulumi {command} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        return proc

    def up(self, stack: str, *extra: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--stack", stack, "--yes", "--skip-preview", *extra, **kw)  # type: ignore[arg-type]

    def preview(self, stack: str, *extra: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return self.run("preview", "--stack", stack, *extra, **kw)  # type: ignore[arg-type]

    def outputs(self, stack: str) -> dict[str, object]:
        out = self.run("stack", "output", "--stack", stack, "--json", "--show-secrets").stdout
        return dict(json.loads(out))

    def export(self, stack: str) -> dict[str, object]:
        return dict(json.loads(self.run("stack", "export", "--stack", stack).stdout))

    def state_text(self) -> str:
        """Every byte of the backend, for secret-leak checks."""
        parts = []
        for p in sorted(self.state_dir.rglob("*")):
            if p.is_file():
                parts.append(p.read_text(errors="replace"))
        return "\n".join(parts)


def make_project(
    tmp: Path, program: str, *, name: str = "t", files: Mapping[str, str] | None = None, runtime_opts: str = ""
) -> PulumiCLI:
    """A Pulumi Python project in tmp/project that uses the repository's virtualenv."""
    workdir = tmp / "project"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    virtualenv: {VENV}\n{runtime_opts}"
    )
    (workdir / "__main__.py").write_text(program)
    for rel, text in (files or {}).items():
        p = workdir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    state = tmp / "state"
    state.mkdir(exist_ok=True)
    home = tmp / "pulumi-home"
    home.mkdir(exist_ok=True)
    return PulumiCLI(workdir=workdir, state_dir=state, home=home)


def copy_repo_program(tmp: Path) -> PulumiCLI:
    """A copy of this repository's program (Pulumi.yaml, __main__.py, components/ ...) in tmp/project."""
    workdir = tmp / "project"
    ignore = shutil.ignore_patterns(".venv", ".tools", ".pulumi-state", ".git", "__pycache__", ".local", "tests")
    shutil.copytree(REPO, workdir, ignore=ignore)
    text = (workdir / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {VENV}")
    (workdir / "Pulumi.yaml").write_text(text)
    state = tmp / "state"
    state.mkdir(exist_ok=True)
    home = tmp / "pulumi-home"
    home.mkdir(exist_ok=True)
    return PulumiCLI(workdir=workdir, state_dir=state, home=home)
