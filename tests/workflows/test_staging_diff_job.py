"""The PR comment's staging part is computed by a job that holds nothing of staging (issue 14, point 5).

The job runs PR code (and the base's), so it gets no secret, no OIDC identity, no environment, no token and
no variable naming staging or production: nothing it could read would open staging's state, Vault or
Dokploy. The renderer then also empties the environment of the program it runs
(tests/ops/test_staging_diff.py tries to read it from a hostile program).
"""

from __future__ import annotations

import re
from typing import Any

from tests.workflows.model import environment_name, jobs, secrets_used, steps, uses, vault_roles, workflows

WF = workflows()["pr-environment.yml"]
JOB = jobs(WF)["staging-diff"]
# Names (in a key or an expression) that would carry a credential, a state backend or a non-PR target.
CREDENTIAL = re.compile(
    r"secrets\.|github\.token|TOKEN|KEY|PASSWORD|PASSPHRASE|AWS_|STAGING|PRODUCTION|ACTIONS_ID_TOKEN", re.I
)


def _effective_env(step: dict[str, Any]) -> dict[str, str]:
    return {**(WF.get("env") or {}), **(JOB.get("env") or {}), **(step.get("env") or {})}


def test_the_staging_diff_job_holds_no_secret_identity_or_environment() -> None:
    assert JOB["permissions"] == {"contents": "read"}  # no id-token: no Vault login, no OIDC claim
    assert environment_name(JOB) is None
    assert secrets_used(JOB) == set() and vault_roles(JOB) == []
    assert not any(u.startswith(("hashicorp/", "docker/", "pulumi/")) for u in uses(JOB))
    assert "github.token" not in str(JOB)


def test_every_step_of_the_staging_diff_job_runs_with_no_credential_in_its_environment() -> None:
    for step in steps(JOB):
        for key, value in _effective_env(step).items():
            assert not CREDENTIAL.search(f"{key}={value}"), f"{step.get('name') or step.get('uses')}: {key}={value}"
        assert not CREDENTIAL.search(str(step.get("with") or "")), step
    (diff,) = [s for s in steps(JOB) if "ops staging-diff" in str(s.get("run"))]
    assert set(diff["env"]) == {"HEAD_SHA"}
    # What remains from the workflow level is addresses of the PR side, none a credential.
    assert set(_effective_env(diff)) - {"HEAD_SHA"} <= {
        "PULUMI_SKIP_UPDATE_CHECK",
        "PULUMI_BACKEND_URL",
        "VAULT_ADDR",
        "DOKPLOY_URL",
    }


def test_the_checkout_persists_no_credential_and_holds_the_base() -> None:
    (checkout,) = [s for s in steps(JOB) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False
    assert int(checkout["with"]["fetch-depth"]) >= 2  # the merge commit's first parent is the base compared with


def test_the_comment_gets_the_section_from_the_job_not_from_a_second_comment() -> None:
    deploy = jobs(WF)["deploy"]
    assert "staging-diff" in deploy["needs"]
    (comment,) = [s for s in steps(deploy) if "ops comment pr-env" in str(s.get("run"))]
    assert comment["env"]["STAGING_DIFF"] == "${{ needs.staging-diff.outputs.section }}"
    assert JOB["outputs"]["section"] == "${{ steps.diff.outputs.section }}"
    assert not any("ops comment preview" in str(s.get("run")) for j in jobs(WF).values() for s in steps(j))
