"""The `pulumi` commands ops runs itself (the reaper, the drift check, reading history).

Always `--non-interactive`, always an explicit `--stack`; the backend and its credentials come from the
job's environment (PULUMI_BACKEND_URL, AWS_*).

The child process gets an allow-list of that environment, never all of it: the state commands (`stack ls`,
`export`, `history`, `stack rm`) get the backend's variables only; only a command that runs the program
(the drift preview) also gets the program's credentials, and one that opens the secrets provider without
running the program (`stack init`, `config set`) only Vault's. So a token the caller holds for its own API calls
(the reaper's GH_ENVIRONMENTS_TOKEN, GITHUB_TOKEN, a Vault token) never reaches the engine or a plugin.
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


# What any pulumi process needs: the process basics, the backend (PULUMI_*) and its credentials (AWS_*).
_BASE = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR")
# A runner behind a proxy reaches the registry and APIs through it (tests/pipeline runs the jobs so too).
_PROXY = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")
_STATE_PREFIXES = ("PULUMI_", "AWS_")
# What the program (and its providers) read, for the commands that run it.
PROGRAM_VARIABLES = (
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "VAULT_NAMESPACE",
    "VAULT_ROLE_ID",
    "VAULT_SECRET_ID",
    "DOKPLOY_URL",
    "DOKPLOY_API_KEY",
    "GITHUB_TOKEN",
    "GITHUB_OWNER",
    "GITHUB_ACTOR",
    "GHCR_READ_TOKEN",
    "REGISTRY_READ_USERNAME",
    "REGISTRY_READ_PASSWORD",
)


# What the stacks' secrets provider (Vault transit: gocloud's hashivault keeper) reads, for the commands that
# create or open it without running the program (`stack init`, `config set`).
SECRETS_VARIABLES = ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_SERVER_URL", "VAULT_SERVER_TOKEN", "VAULT_NAMESPACE")


def child_env(*, program: bool, secrets: bool = False, source: dict[str, str] | None = None) -> dict[str, str]:
    """The allow-listed environment of a pulumi child process (see the module docstring)."""
    src = dict(os.environ if source is None else source)
    keep = set(_BASE) | set(_PROXY) | (set(SECRETS_VARIABLES) if secrets else set())
    keep |= set(PROGRAM_VARIABLES) if program else set()
    return {k: v for k, v in src.items() if k in keep or k.startswith(_STATE_PREFIXES)}


def run(*args: str, cwd: Path = REPO, timeout: float = 3600, program: bool = False, secrets: bool = False) -> Result:
    proc = subprocess.run(
        [pulumi_binary(), "--non-interactive", *args],
        cwd=cwd,
        env=child_env(program=program, secrets=secrets),
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


def remove_state(stack: str, cwd: Path = REPO) -> Result:
    """`stack rm --force`: drop a PR stack's state without running the engine on it.

    Never `destroy` (or refresh, or up) a stack whose state a PR could write: the engine's dynamic-provider
    Delete and Read unpickle the `__provider` stored in that state, which is code. The reaper deletes the
    stack's objects through the APIs first (ops/reap_job.py), then forgets the state.
    """
    return run("stack", "rm", stack, "--force", "--yes", cwd=cwd)


def drift_preview(stack: str, image_tag: str | None, cwd: Path = REPO) -> Result:
    args = ["preview", "--stack", stack, "--refresh", "--expect-no-changes", "--diff"]
    if image_tag:
        args += ["--config", f"financeReport:imageTag={image_tag}"]
    return run(*args, cwd=cwd, program=True)
