"""The required status checks of the `main` ruleset: exactly the job names of `.github/workflows/ci.yml`.

The list itself belongs to the GitHub component that owns the ruleset (`components.github.REQUIRED_CHECKS`);
tests keep it equal to ci.yml, so renaming a job cannot leave `main` requiring a check that never reports.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from components.github import REQUIRED_CHECKS
from ops.stacks import REPO

__all__ = ["CI_WORKFLOW", "REQUIRED_CHECKS", "ci_job_names"]

CI_WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def ci_job_names(path: Path = CI_WORKFLOW) -> list[str]:
    """The check names GitHub reports for ci.yml's jobs (a job's `name`, else its id)."""
    doc = yaml.safe_load(path.read_text())
    return [str(job.get("name") or job_id) for job_id, job in (doc.get("jobs") or {}).items()]
