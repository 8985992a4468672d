"""The `pulumi` commands ops runs itself (the reaper, the drift check, reading history).

Always `--non-interactive`, always an explicit `--stack`; the backend, credentials and Vault token come
from the job's environment (PULUMI_BACKEND_URL, AWS_*, VAULT_ADDR/VAULT_TOKEN).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ops.stacks import REPO


@dataclass(frozen=True)
class Result:
    code: int
    output: str  # stdout and stderr interleaved, as a reader of the log saw them


def pulumi_binary() -> str:
    return os.environ.get("PULUMI_BINARY") or shutil.which("pulumi") or "pulumi"


def run(*args: str, cwd: Path = REPO, timeout: float = 3600) -> Result:
    proc = subprocess.run(
        [pulumi_binary(), "--non-interactive", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout)


def stack_ls(cwd: Path = REPO) -> str:
    res = run("stack", "ls", "--json", cwd=cwd)
    if res.code != 0:
        raise RuntimeError(f"pulumi stack ls failed: {res.output.strip().splitlines()[-1:]}")
    return res.output


def history(stack: str, cwd: Path = REPO) -> str:
    res = run("stack", "history", "--stack", stack, "--json", "--page-size", "20", cwd=cwd)
    return res.output if res.code == 0 else "[]"


def export(stack: str, cwd: Path = REPO) -> str:
    """The stack's state (secrets stay ciphertext: no --show-secrets)."""
    res = run("stack", "export", "--stack", stack, cwd=cwd)
    if res.code != 0:
        raise RuntimeError(f"pulumi stack export --stack {stack} failed: {res.output.strip().splitlines()[-1:]}")
    return res.output


def destroy_and_remove(stack: str, cwd: Path = REPO) -> Result:
    """`destroy` then `stack rm` (without --force: rm refuses while resources remain, which is the point).

    First the stack file's secrets keys, from the state: the reaper's checkout has no Pulumi.pr-<N>.yaml.
    """
    from ops.stack_files import ensure_stack  # it runs pulumi through this module

    try:
        ensure_stack(stack, cwd, create=False)
    except (ValueError, RuntimeError) as exc:
        return Result(1, str(exc))
    res = run("destroy", "--stack", stack, "--yes", "--skip-preview", cwd=cwd)
    if res.code != 0:
        return res
    rm = run("stack", "rm", stack, "--yes", cwd=cwd)
    return Result(rm.code, res.output + rm.output)


def drift_preview(stack: str, image_tag: str | None, cwd: Path = REPO) -> Result:
    args = ["preview", "--stack", stack, "--refresh", "--expect-no-changes", "--diff"]
    if image_tag:
        args += ["--config", f"financeReport:imageTag={image_tag}"]
    return run(*args, cwd=cwd)
