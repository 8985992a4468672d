"""Drift check of one stack: `pulumi preview --refresh --expect-no-changes` at the config it last deployed.

CI passes `financeReport:imageTag` per run rather than committing it, so the check reads the tag of the
last successful update from the stack's history; without it the preview would report the tag as drift.
"""

from __future__ import annotations

import re

from ops import pulumi_cli, stacks
from ops.comments import DriftResult

IMAGE_TAG = "financeReport:imageTag"
# What `--expect-no-changes` prints when the preview worked but found changes (3.260: "... for preview ...").
_CHANGES = re.compile(r"no changes were expected\b.*\bbut changes were proposed", re.I)
REPORT_LIMIT = 20_000  # a job output travels to the issue job; keep it well under GitHub's 1 MB per job


def check(stack: str) -> DriftResult:
    tag = stacks.deployed_config(stacks.parse_history(pulumi_cli.history(stack)), IMAGE_TAG)
    res = pulumi_cli.drift_preview(stack, tag)
    if res.code == 0:
        return DriftResult(stack, "clean", res.output)
    drifted = bool(_CHANGES.search(res.output))
    return DriftResult(stack, "drift" if drifted else "error", res.output[-REPORT_LIMIT:])
