"""`python -m ops.recover` after a killed `pulumi` tore a file backend's metadata sidecar (real CLI, file backend).

The bucket library behind the file backend writes each object to a temporary name and renames it, but writes the
object's `<name>.attrs` sidecar in place: a SIGKILL between creating and filling it leaves it empty, and from then on
every command on that stack fails with `failed to load checkpoint: EOF` (seen in CI, a kill mid-destroy). The
recovery must remove exactly the torn sidecar, say so, and leave the stack usable with its state intact.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.pulumi_cli import REPO, VENV, PulumiCLI, make_project, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

PROGRAM = "import pulumi\npulumi.export('answer', 42)\n"


def recover(cli: PulumiCLI, stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV / "bin" / "python"), "-m", "ops.recover", "--stack", stack, "--cwd", str(cli.workdir)],
        cwd=REPO, env=cli.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_torn_sidecar_is_removed_and_the_stack_works_again(tmp_path: Path) -> None:
    cli = make_project(tmp_path, PROGRAM, name="t")
    cli.run("stack", "init", "s")
    cli.up("s")
    cli.up("s")  # a second update, so the checkpoint has its `.bak` and both have sidecars
    stacks = cli.state_dir / ".pulumi" / "stacks" / "t"
    torn, whole = stacks / "s.json.attrs", stacks / "s.json.bak.attrs"
    assert torn.exists() and whole.exists(), sorted(p.name for p in stacks.iterdir())
    whole_text = whole.read_text()
    torn.write_text("")  # what the kill leaves: created, never filled

    broken = cli.run("stack", "export", "--stack", "s", check=False)
    assert broken.returncode != 0 and "failed to load checkpoint: EOF" in broken.stderr, broken.stderr

    proc = recover(cli, "s")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        "recover: removed 1 metadata file(s) a killed pulumi left half-written (s.json.attrs)"
    ]
    assert not torn.exists() and whole.read_text() == whole_text  # only the torn one goes
    assert cli.outputs("s") == {"answer": 42}  # the state is as the last update left it
    cli.up("s")

    again = recover(cli, "s")  # nothing left to do: nothing said
    assert again.returncode == 0 and again.stdout == "", again.stdout + again.stderr
