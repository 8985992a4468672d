"""`make setup` is idempotent and quick once the tools are there: nothing is rebuilt or reinstalled."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools" / "bin"


@pytest.mark.skipif(not (TOOLS / "pulumi").exists(), reason="run `make setup` first")
def test_second_setup_is_quick_and_rebuilds_nothing() -> None:
    before = {p.name: os.path.realpath(p) for p in TOOLS.iterdir()}
    started = time.monotonic()
    proc = subprocess.run(["make", "-s", "setup"], cwd=REPO, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "building" not in out and "installing" not in out, out
    assert elapsed < 30, f"a second make setup took {elapsed:.1f} s"
    after = {p.name: os.path.realpath(p) for p in TOOLS.iterdir()}
    assert after == before  # the same cached build, linked as before
    version = subprocess.run([str(TOOLS / "pulumi"), "version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "v" + (REPO / "tools/pulumi-build/PULUMI_VERSION").read_text().strip()
