"""`main`'s required checks are exactly the job names `.github/workflows/ci.yml` reports."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.github import REQUIRED_CHECKS

CI = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "ci.yml"


def check_names(workflow: Mapping[str, Any]) -> set[str]:
    # A job's check run is named by its `name:` (or its id without one); a matrix would add suffixes.
    jobs = workflow.get("jobs")
    assert isinstance(jobs, dict), "ci.yml has no jobs"
    names = set()
    for job_id, job in jobs.items():
        assert "matrix" not in (job.get("strategy") or {}), f"job {job_id} uses a matrix: list its expanded names"
        names.add(str(job.get("name", job_id)))
    return names


def test_required_checks_equal_ci_job_names() -> None:
    if not CI.exists():
        pytest.skip(f"{CI.relative_to(CI.parents[2])} is not written yet (the workflows issue)")
    assert check_names(yaml.safe_load(CI.read_text())) == set(REQUIRED_CHECKS)


def test_check_names_follow_githubs_naming() -> None:
    workflow = {"jobs": {"test": {"runs-on": "ubuntu-latest"}, "lint": {"name": "Lint and types"}}}
    assert check_names(workflow) == {"test", "Lint and types"}
    assert len(REQUIRED_CHECKS) == len(set(REQUIRED_CHECKS)) > 0
