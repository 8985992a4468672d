"""`make env` and `make shell`: after one command, pulumi works by hand on the local stack (issue 18).

The shell starts with none of the variables a pulumi run needs and without the project's tools on PATH, as
a newcomer's does; only PULUMI_HOME is set (to the test's own), which `make env` must keep.
"""

from __future__ import annotations

import re

import pytest

from tests.local.conftest import LocalUp
from tests.stacks.clone import Run
from tests.support.leaks import assert_no_leak

pytestmark = [pytest.mark.engine, pytest.mark.slow]

BARE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Pulumi's progress line (its live display falls back to it on a pty without a size, as here).
PROGRESS = "@ previewing update"


def _bare_env(local_up: LocalUp) -> dict[str, str]:
    env = local_up.clone.env()
    for name in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_PYTHON_CMD", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["PATH"] = BARE_PATH
    return env


def _bash(local_up: LocalUp, script: str) -> Run:
    import subprocess

    clone = local_up.clone
    proc = subprocess.run(
        ["bash", "-c", script], cwd=clone.root, env=_bare_env(local_up), capture_output=True, text=True, timeout=300
    )
    run = Run(["bash", "-c", script], proc.returncode, proc.stdout, proc.stderr)
    clone.transcript.append(run.output)
    return run


def test_eval_make_env_then_pulumi_stack_ls_preview_and_config_set(local_up: LocalUp) -> None:
    run = _bash(
        local_up,
        """
        command -v pulumi >/dev/null && { echo "pulumi was already on PATH"; exit 3; }
        set -e
        make -s env > exports.sh
        eval "$(cat exports.sh)"
        pulumi stack ls
        pulumi preview --stack local --expect-no-changes
        pulumi config set --stack local financeReport:healthPath /api/health
        echo "healthPath=$(pulumi config get --stack local financeReport:healthPath)"
        pulumi config rm --stack local financeReport:healthPath
        echo "DOKPLOY_URL=$DOKPLOY_URL"
        """,
    )
    assert run.returncode == 0, run.output[-4000:]
    assert re.search(r"^local\*?\s", run.stdout, re.M)  # `pulumi stack ls` lists the stack make up made
    assert "healthPath=/api/health" in run.stdout
    assert f"DOKPLOY_URL={local_up.clone.dokploy_url}" in run.stdout
    # `make -s env` printed only shell lines, and no secret: the key is read from its file when evaluated
    exports = (local_up.clone.root / "exports.sh").read_text()
    lines = [line for line in exports.splitlines() if line.strip()]
    assert lines and all(line.startswith(("export ", ": ", "unset ")) for line in lines), exports
    assert_no_leak(exports + run.output, local_up.secrets(), "make env and the shell's output")


def test_make_shell_has_pulumi_and_the_local_stack(local_up: LocalUp) -> None:
    # The same exports as `make env` (one script prints both) reach an interactive shell.
    run = _bash(
        local_up,
        """
        make -s shell <<'COMMANDS'
        pulumi stack ls --json | grep -q '"name": "local"' && echo "stack ls in make shell: $((40 + 2))"
        exit
        COMMANDS
        """,
    )
    assert "stack ls in make shell: 42" in run.stdout, run.output[-4000:]  # computed: an echoed line has no 42


def test_make_preview_shows_pulumis_progress_on_a_terminal_only(local_up: LocalUp) -> None:
    # On a TTY (a pty from `script`) the target drops --suppress-progress: Pulumi's progress lines appear;
    # into a pipe (CI, logs: `make up` in these tests) it writes none.
    run = _bash(local_up, "TERM=xterm script -qec 'make -s preview' /dev/null </dev/null")
    assert run.returncode == 0, run.output[-4000:]
    assert PROGRESS in run.stdout, run.stdout[-3000:]
    assert PROGRESS not in local_up.first_up.stdout
