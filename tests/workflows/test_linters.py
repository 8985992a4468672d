"""Acceptance 1: actionlint and zizmor report nothing, every workflow fits GitHub's schema, every action is pinned."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflows.model import ACTIONS, REPO, WORKFLOWS, pins, uses_with_comments

ACTIONLINT = REPO / ".tools" / "bin" / "actionlint"
VENV_BIN = Path(sys.executable).parent
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.y*ml"))
ACTION_FILES = sorted(ACTIONS.glob("*/action.y*ml"))


def test_the_expected_workflows_exist() -> None:
    names = {p.name for p in WORKFLOW_FILES}
    assert names == {
        "ci.yml",
        "pr-fork-notice.yml",
        "pr-target.yml",
        "pr-environment.yml",
        "staging.yml",
        "production.yml",
        "reaper.yml",
        "drift.yml",
    }


def test_actionlint_reports_nothing() -> None:
    assert ACTIONLINT.exists(), "actionlint missing: run `make test-setup`"
    proc = subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, WORKFLOW_FILES)], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_reports_nothing_at_medium_or_above() -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "zizmor"), "--offline", "--no-progress", "--min-severity", "medium", ".github/"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_the_only_zizmor_ignores_are_the_pull_request_target_triggers() -> None:
    """An inline ignore hides a finding: allow exactly the two `pull_request_target` triggers, on workflows
    that run no PR code (tests/workflows/test_structure.py checks they check out nothing of the PR)."""
    ignores = [
        (p.name, line.strip())
        for p in [*WORKFLOW_FILES, *ACTION_FILES]
        for line in p.read_text().splitlines()
        if "zizmor: ignore" in line
    ]
    assert ignores == [
        (
            "pr-fork-notice.yml",
            "pull_request_target: # zizmor: ignore[dangerous-triggers] no checkout, no PR code, a fixed comment only",
        ),
        (
            "pr-target.yml",
            "pull_request_target: # zizmor: ignore[dangerous-triggers] main's code only; "
            "nothing of the PR is checked out or run",
        ),
    ]


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", p) for p in WORKFLOW_FILES] + [("vendor.github-actions", p) for p in ACTION_FILES],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_schema(schema: str, path: Path) -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", [*WORKFLOW_FILES, *ACTION_FILES], ids=lambda p: p.name)
def test_every_action_is_a_pinned_sha_from_the_pins_file(path: Path) -> None:
    found = uses_with_comments(path)
    assert found or path.name == "pr-fork-notice.yml", f"{path.name} uses no action at all?"
    for ref, comment in found:
        if ref.startswith("./"):
            assert (REPO / ref / "action.yml").exists(), f"{path.name}: local action {ref} does not exist"
            continue
        action, _, sha = ref.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{path.name}: {ref} is not pinned to a full commit SHA"
        pin = pins().get(sha)
        assert pin is not None, f"{path.name}: {ref} is not a SHA listed in {pins.__module__}'s pins file"
        assert pin.action == action, f"{path.name}: {sha} is {pin.action}'s, not {action}'s"
        assert comment == pin.tag, f"{path.name}: {ref} should carry the comment '# {pin.tag}', not {comment!r}"


def test_pins_file_parses() -> None:
    table = pins()
    assert len(table) >= 10
    assert any(p.action == "actions/checkout" for p in table.values())
