"""Acceptance 2: each workflow parsed - triggers, permissions, concurrency, id-token, what PR events reach,
and production applying the saved plan after the approval gate."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ops.required_checks import REQUIRED_CHECKS, ci_job_names
from tests.workflows.model import (
    PR_EVENTS,
    environment_name,
    jobs,
    run_scripts,
    secrets_used,
    steps,
    triggers,
    uses,
    vault_roles,
    workflows,
)

WF = workflows()
ALL_JOBS = [(name, job_id, job) for name, wf in WF.items() for job_id, job in jobs(wf).items()]
PR_NUMBER_ENV = "pr-${{ github.event.pull_request.number }}"
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"

# ---- triggers ---------------------------------------------------------------------------------------
EXPECTED_TRIGGERS = {
    "ci.yml": {"pull_request", "push"},
    "pr-fork-notice.yml": {"pull_request_target"},
    "pr-target.yml": {"pull_request_target"},
    "pr-environment.yml": {"pull_request"},
    "staging.yml": {"push"},
    "production.yml": {"push", "workflow_dispatch"},
    "reaper.yml": {"schedule", "workflow_dispatch"},
    "drift.yml": {"schedule", "workflow_dispatch"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_TRIGGERS))
def test_triggers(name: str) -> None:
    assert triggers(WF[name]) == EXPECTED_TRIGGERS[name]


def test_trigger_details() -> None:
    on = {name: wf["on"] for name, wf in WF.items()}
    assert on["ci.yml"]["push"] == {"branches": ["main"]} and on["ci.yml"]["pull_request"] == {"branches": ["main"]}
    assert on["pr-environment.yml"]["pull_request"]["types"] == ["opened", "synchronize", "reopened"]  # no close
    assert on["pr-target.yml"]["pull_request_target"]["types"] == ["opened", "reopened", "synchronize", "closed"]
    assert on["reaper.yml"]["workflow_dispatch"]["inputs"]["stack"]["type"] == "string"
    assert on["staging.yml"]["push"] == {"branches": ["main"]}  # no tags: a release tag is not a staging deploy
    assert on["production.yml"]["push"] == {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}  # release tags only, no branch
    version = on["production.yml"]["workflow_dispatch"]["inputs"]["version"]
    assert version["required"] is True and version["type"] == "string"
    assert on["reaper.yml"]["workflow_dispatch"]["inputs"]["delete-orphans"]["default"] is False
    for name in ("reaper.yml", "drift.yml"):
        assert len(on[name]["schedule"]) == 1


# ---- permissions ------------------------------------------------------------------------------------
R, W = "read", "write"
EXPECTED_PERMISSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("ci.yml", "test"): {"contents": R},
    ("pr-fork-notice.yml", "notice"): {"pull-requests": W},
    ("pr-target.yml", "admit"): {"contents": R, "id-token": W},
    ("pr-target.yml", "reap"): {"actions": W},  # only to dispatch reaper.yml (main's code)
    ("pr-environment.yml", "images"): {"contents": R, "packages": W},  # the PR packages only (GHCR settings)
    ("pr-environment.yml", "deploy"): {"contents": R, "id-token": W, "pull-requests": W},
    ("pr-environment.yml", "staging-diff"): {"contents": R},  # renders from the code: nothing else
    ("staging.yml", "images"): {"contents": R},  # pushes with the staging environment's GHCR_PUSH_TOKEN
    ("staging.yml", "deploy"): {"contents": R, "id-token": W},
    # tags with the release App, re-tags with GHCR_PUSH_TOKEN, records the digests with staging's Vault role
    ("staging.yml", "release"): {"contents": R, "id-token": W},
    ("production.yml", "plan"): {"contents": R, "id-token": W, "packages": R},
    ("production.yml", "deploy"): {"actions": R, "contents": R, "id-token": W, "packages": R},
    ("reaper.yml", "reap"): {"contents": R, "id-token": W, "pull-requests": W},  # W: the closed PR's comment
    ("reaper.yml", "images"): {"contents": R, "packages": W},  # W: deletes PR image versions, nothing else
    ("drift.yml", "staging"): {"contents": R, "id-token": W},
    ("drift.yml", "production"): {"contents": R, "id-token": W, "packages": R},
    ("drift.yml", "issue"): {"contents": R, "issues": W},
}


def test_every_job_is_listed_here() -> None:
    assert {(n, j) for n, j, _ in ALL_JOBS} == set(EXPECTED_PERMISSIONS)


@pytest.mark.parametrize("name", sorted(WF))
def test_workflow_level_permissions_are_empty(name: str) -> None:
    assert WF[name]["permissions"] == {}, "grant per job, never to the whole workflow"


@pytest.mark.parametrize(("name", "job_id", "job"), ALL_JOBS, ids=[f"{n}:{j}" for n, j, _ in ALL_JOBS])
def test_job_permissions_are_exactly_what_it_needs(name: str, job_id: str, job: dict[str, Any]) -> None:
    assert job.get("permissions") == EXPECTED_PERMISSIONS[(name, job_id)]


@pytest.mark.parametrize(("name", "job_id", "job"), ALL_JOBS, ids=[f"{n}:{j}" for n, j, _ in ALL_JOBS])
def test_id_token_only_where_vault_is_logged_into_with_oidc(name: str, job_id: str, job: dict[str, Any]) -> None:
    has_id_token = job["permissions"].get("id-token") == "write"
    vault_steps = [s for s in steps(job) if str(s.get("uses", "")).startswith("hashicorp/vault-action@")]
    assert has_id_token == bool(vault_steps)
    for s in vault_steps:
        assert s["with"]["method"] == "jwt" and s["with"]["exportToken"] is True


# ---- concurrency -----------------------------------------------------------------------------------
def _concurrency(name: str, job: dict[str, Any]) -> dict[str, Any]:
    c = job.get("concurrency") or WF[name].get("concurrency")
    assert c, f"{name}: a job without a concurrency group"
    return dict(c)


EXPECTED_GROUPS = {
    ("ci.yml", "test"): ("ci-${{ github.event.pull_request.number || github.ref }}", True),
    ("pr-fork-notice.yml", "notice"): ("pr-fork-notice-${{ github.event.pull_request.number }}", True),
    ("pr-target.yml", "admit"): ("pr-target-${{ github.event.pull_request.number }}", False),
    ("pr-target.yml", "reap"): ("pr-target-${{ github.event.pull_request.number }}", False),
    ("pr-environment.yml", "images"): ("stack-pr-${{ github.event.pull_request.number }}", True),
    ("pr-environment.yml", "deploy"): ("stack-pr-${{ github.event.pull_request.number }}", True),
    ("pr-environment.yml", "staging-diff"): ("stack-pr-${{ github.event.pull_request.number }}", True),
    ("staging.yml", "images"): ("stack-staging", False),
    ("staging.yml", "deploy"): ("stack-staging", False),
    ("staging.yml", "release"): ("stack-staging", False),
    ("production.yml", "plan"): ("stack-production", False),
    ("production.yml", "deploy"): ("stack-production", False),
    ("reaper.yml", "reap"): ("reaper", False),
    ("reaper.yml", "images"): ("reaper", False),
    ("drift.yml", "staging"): ("drift-staging", False),
    ("drift.yml", "production"): ("drift-production", False),
    ("drift.yml", "issue"): ("drift-issue", False),
}


@pytest.mark.parametrize(("name", "job_id", "job"), ALL_JOBS, ids=[f"{n}:{j}" for n, j, _ in ALL_JOBS])
def test_concurrency_group_per_stack(name: str, job_id: str, job: dict[str, Any]) -> None:
    c = _concurrency(name, job)
    group, cancels = EXPECTED_GROUPS[(name, job_id)]
    assert c["group"] == group
    cancel = c.get("cancel-in-progress", False)
    if cancels:  # PR groups cancel superseded runs (an expression may spare specific events, checked below)
        assert cancel is True or (isinstance(cancel, str) and cancel.startswith("${{"))
    else:
        assert cancel is False


def test_pr_environment_cancels_superseded_deploys() -> None:
    assert WF["pr-environment.yml"]["concurrency"]["cancel-in-progress"] is True
    assert WF["ci.yml"]["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_production_never_cancels_a_running_deploy() -> None:
    wf = WF["production.yml"]
    assert wf["concurrency"] == {"group": "stack-production", "cancel-in-progress": False}
    assert all("concurrency" not in job for job in jobs(wf).values()), "a job-level group would escape the lock"


def test_groups_are_not_shared_across_workflows() -> None:
    """A queued run replaces a pending one in the same group - across workflows too - so never share."""
    owners: dict[str, set[str]] = {}
    for name, _, job in ALL_JOBS:
        owners.setdefault(_concurrency(name, job)["group"], set()).add(name)
    assert {g: o for g, o in owners.items() if len(o) > 1} == {}


# ---- what a PR can reach ---------------------------------------------------------------------------
# Acceptance 3 (issue 12): no job a PR event can start holds a credential that can change staging,
# production, release records or gates - including a PR that edits its own workflow. The gates come from
# the GitHub component's plan (components/github.py) and the Vault JWT roles (components/vault/authority.py),
# so the test reads them, not a copy.
PROTECTED_ENVIRONMENTS = {"staging", "production", "production-readonly", "pr-reaper", "pr-admission"}
# What a same-repository PR may hold: the preview project's member key and the preview backend's state.
PR_ALLOWED_SECRETS = {
    "DOKPLOY_PREVIEW_API_KEY",
    "PREVIEW_STATE_AWS_ACCESS_KEY_ID",
    "PREVIEW_STATE_AWS_SECRET_ACCESS_KEY",
}
PR_JOBS = [(n, j, job) for n, j, job in ALL_JOBS if triggers(WF[n]) & PR_EVENTS]
# `pull_request_target` runs the base branch's workflow file: the PR cannot edit these jobs.
BASE_DEFINED = {"pull_request_target", "workflow_run"}
PR_DEFINED_JOBS = [(n, j, job) for n, j, job in PR_JOBS if not triggers(WF[n]) <= BASE_DEFINED]
PR_REF = "refs/pull/7/merge"  # the ref GitHub gives a PR 7 job, whatever its workflow says


def _gates() -> dict[str, Any]:
    from components.environment import environment_for
    from components.github import plan_for

    return {e.name: e for e in plan_for(environment_for("staging", {"imageTag": "sha-abc1234"})).environments}


def _admits(spec: Any, ref: str) -> bool:
    """GitHub's deployment policy: typed branch/tag patterns; a PR's merge ref is neither."""
    from fnmatch import fnmatchcase

    if not spec.branch_patterns and not spec.tag_patterns:
        return True
    kind, _, name = ref.removeprefix("refs/").partition("/")
    patterns = spec.branch_patterns if kind == "heads" else spec.tag_patterns if kind == "tags" else ()
    return any(fnmatchcase(name, p) and "/" not in name for p in patterns)


def test_pr_reachable_jobs_are_the_ones_expected() -> None:
    assert {(n, j) for n, j, _ in PR_JOBS} == {
        ("ci.yml", "test"),
        ("pr-fork-notice.yml", "notice"),
        ("pr-target.yml", "admit"),
        ("pr-target.yml", "reap"),
        ("pr-environment.yml", "images"),
        ("pr-environment.yml", "deploy"),
        ("pr-environment.yml", "staging-diff"),
    }
    assert {(n, j) for n, j, _ in PR_DEFINED_JOBS} == {
        ("ci.yml", "test"),
        ("pr-environment.yml", "images"),
        ("pr-environment.yml", "deploy"),
        ("pr-environment.yml", "staging-diff"),
    }


@pytest.mark.parametrize(("name", "job_id", "job"), PR_DEFINED_JOBS, ids=[f"{n}:{j}" for n, j, _ in PR_DEFINED_JOBS])
def test_no_pr_defined_job_holds_anything_of_staging_or_production(name: str, job_id: str, job: dict[str, Any]) -> None:
    env = environment_name(job)
    assert env in (None, PR_NUMBER_ENV), f"{name}:{job_id} uses environment {env}"
    assert secrets_used(job) <= PR_ALLOWED_SECRETS, f"{name}:{job_id} reaches {secrets_used(job) - PR_ALLOWED_SECRETS}"
    assert set(vault_roles(job)) <= {"finance_report-preview"}
    assert "uses" not in job, "a reusable workflow would hide what the job can reach"


def test_a_pr_editing_its_own_workflow_gets_no_protected_environment() -> None:
    """`environment: staging` (or any protected one) in a PR's own workflow: the deployment policy refuses
    the PR's ref before the job starts, so none of that environment's secrets or OIDC claims are issued."""
    gates = _gates()
    assert set(gates) >= PROTECTED_ENVIRONMENTS
    for name in PROTECTED_ENVIRONMENTS:
        for ref in (PR_REF, "refs/heads/feature", "refs/heads/v1.2.3"):
            assert not _admits(gates[name], ref), f"{name} admits {ref}"
    # Every environment a PR ref may use holds no secret (only repository secrets are left to a PR).
    for name, spec in gates.items():
        if _admits(spec, PR_REF):
            assert all(env_name != name for homes in SECRET_HOMES.values() for env_name in homes), name


def test_a_pr_editing_its_own_workflow_mints_no_vault_identity_beyond_its_own_paths() -> None:
    """`permissions: write-all` + any `environment:` name: the OIDC token says event pull_request and ref
    refs/pull/<N>/merge (GitHub sets those). The only JWT role that accepts that is the PR stacks' one,
    which reaches the PR's own paths (tests/vault/test_jwt.py tries pr-7 -> pr-8)."""
    from fnmatch import fnmatchcase

    from components.vault.authority import JWT_ROLES

    accepting = [
        r.name for r in JWT_ROLES if "pull_request" in r.events and any(fnmatchcase(PR_REF, ref) for ref in r.refs)
    ]
    assert accepting == ["finance_report-preview"]
    # pull_request_target jobs run on main: only the admission role takes that event.
    assert [r.name for r in JWT_ROLES if "pull_request_target" in r.events] == ["finance_report-pr-admission"]


def test_a_pr_with_a_write_all_token_cannot_release_or_land_code() -> None:
    """What GITHUB_TOKEN `write-all` could still try, and the gate the GitHub component registers for each
    (tests/github/test_gates.py checks the registered rules): push a `v*` tag (only the release App may),
    push to main (a reviewed PR and `make test` required), dispatch production.yml (its environments admit
    release tags only and have reviewers), push release images (GHCR: the release packages grant this
    repository read only; PR images go to the `-preview` packages)."""
    from components.environment import environment_for
    from components.github import RELEASE_TAG_REFS

    gates = _gates()
    assert RELEASE_TAG_REFS == "refs/tags/v*"
    for name in ("production", "production-readonly"):
        assert gates[name].reviewed and not _admits(gates[name], "refs/heads/feature")
    pr, staging = environment_for("pr-7"), environment_for("staging", {"imageTag": "sha-abc1234"})
    assert pr.image_repository == staging.image_repository + "-preview"


def test_no_pr_reachable_job_gets_a_token_that_writes_release_packages() -> None:
    """Only the staging environment's push credential writes the release packages; PR jobs log in to GHCR
    with their own GITHUB_TOKEN, which GHCR limits to the PR packages."""
    for name, job_id, job in ALL_JOBS:
        logins = [s for s in steps(job) if str(s.get("uses", "")).startswith("docker/login-action@")]
        for s in logins:
            if s["with"]["password"] != "${{ github.token }}":
                assert environment_name(job) == "staging", f"{name}:{job_id}"
        if (name, job_id) in {(n, j) for n, j, _ in PR_JOBS} and logins:
            assert all(s["with"]["password"] == "${{ github.token }}" for s in logins)


@pytest.mark.parametrize("name", ["pr-environment.yml"])
def test_pr_workflows_skip_forks(name: str) -> None:
    for job in jobs(WF[name]).values():
        assert SAME_REPO in str(job["if"])


def test_fork_notice_runs_no_pr_code() -> None:
    (job,) = jobs(WF["pr-fork-notice.yml"]).values()
    assert str(job["if"]) == SAME_REPO.replace("==", "!=")
    assert uses(job) == [], "pull_request_target must not check out or run anything from the PR"
    assert secrets_used(job) == set()


@pytest.mark.parametrize("job_id", ["admit", "reap"])
def test_pr_target_runs_main_code_and_checks_out_nothing_of_the_pr(job_id: str) -> None:
    job = jobs(WF["pr-target.yml"])[job_id]
    for s in steps(job):
        if str(s.get("uses", "")).startswith("actions/checkout@"):
            assert "ref" not in s["with"] and "repository" not in s["with"], "the base branch, never the PR head"
    text = str(job)
    assert "head.sha" not in text and "head.ref" not in text and "github.head_ref" not in text


def test_a_closed_pr_is_torn_down_by_the_reaper_never_by_pr_code() -> None:
    """The `pr-<N>` environment and stack go through reaper.yml (main's code, pr-reaper environment), started
    by pr-target.yml's closed job; no PR-defined job destroys anything or holds GH_ENVIRONMENTS_TOKEN."""
    reap = jobs(WF["pr-target.yml"])["reap"]
    assert "closed" in reap["if"] and run_scripts(reap) == [
        'gh workflow run reaper.yml --repo "$REPO" --ref main -f "stack=pr-$PR_NUMBER"'
    ]
    reaper = jobs(WF["reaper.yml"])["reap"]
    assert environment_name(reaper) == "pr-reaper" and "GH_ENVIRONMENTS_TOKEN" in secrets_used(reaper)
    assert any("--stack" in s for s in run_scripts(reaper))
    for name, job_id, job in PR_DEFINED_JOBS:
        assert not any("destroy" in s or "stack rm" in s for s in run_scripts(job)), f"{name}:{job_id}"
    assert not any("pulumi destroy" in s or "pulumi refresh" in s for s in run_scripts(reaper))


# Secrets that can change (or read) staging or production live in environments that admit only main or
# release tags; each may appear only in jobs bound to its environment.
SECRET_HOMES = {
    "DOKPLOY_STAGING_API_KEY": {"staging"},
    "DOKPLOY_STAGING_OBSERVER_API_KEY": {"staging"},
    "STAGING_STATE_AWS_ACCESS_KEY_ID": {"staging"},
    "STAGING_STATE_AWS_SECRET_ACCESS_KEY": {"staging"},
    "STAGING_STATE_READ_AWS_ACCESS_KEY_ID": {"staging"},
    "STAGING_STATE_READ_AWS_SECRET_ACCESS_KEY": {"staging"},
    "GHCR_PUSH_TOKEN": {"staging"},
    "RELEASE_APP_PRIVATE_KEY": {"staging"},
    "DOKPLOY_PRODUCTION_API_KEY": {"production"},
    "PRODUCTION_STATE_AWS_ACCESS_KEY_ID": {"production"},
    "PRODUCTION_STATE_AWS_SECRET_ACCESS_KEY": {"production"},
    "DOKPLOY_OBSERVER_API_KEY": {"production-readonly"},
    "PRODUCTION_STATE_READ_AWS_ACCESS_KEY_ID": {"production-readonly"},
    "PRODUCTION_STATE_READ_AWS_SECRET_ACCESS_KEY": {"production-readonly"},
    "GH_ADMIN_TOKEN": {"staging", "production"},
    "GH_READONLY_TOKEN": {"staging", "production-readonly"},
    "GH_ENVIRONMENTS_TOKEN": {"pr-reaper"},
}
# Each Vault JWT role is bound to GitHub environment claims (components/vault/authority.py JWT_ROLES).
VAULT_ROLE_HOMES: dict[str, set[str | None]] = {
    "finance_report-staging": {"staging"},
    "finance_report-production": {"production"},
    "finance_report-production-readonly": {"production-readonly"},
    "finance_report-preview": {PR_NUMBER_ENV},
    "finance_report-pr-reaper": {"pr-reaper"},
    "finance_report-pr-admission": {"pr-admission"},
}


@pytest.mark.parametrize(("name", "job_id", "job"), ALL_JOBS, ids=[f"{n}:{j}" for n, j, _ in ALL_JOBS])
def test_environment_secrets_and_vault_roles_stay_in_their_environment(
    name: str, job_id: str, job: dict[str, Any]
) -> None:
    env = environment_name(job)
    for secret in secrets_used(job):
        assert secret in SECRET_HOMES or secret in PR_ALLOWED_SECRETS, f"undocumented secret {secret}"
        if secret in SECRET_HOMES:
            assert env in SECRET_HOMES[secret], f"{name}:{job_id} uses {secret} outside {SECRET_HOMES[secret]}"
    for role in vault_roles(job):
        assert env in VAULT_ROLE_HOMES[role], f"{name}:{job_id} logs into {role} in environment {env}"


# ---- production: plan, approval, apply exactly that plan -------------------------------------------
def _step_index(job: dict[str, Any], pattern: str) -> int:
    for i, s in enumerate(steps(job)):
        if re.search(pattern, str(s.get("run", "")) + " " + str(s.get("uses", ""))):
            return i
    raise AssertionError(f"no step matches {pattern}")


def test_production_applies_the_saved_plan_after_the_approval_gate() -> None:
    wf = jobs(WF["production.yml"])
    plan, deploy = wf["plan"], wf["deploy"]
    # The plan is made before any approval, by the read-only identity, and saved.
    assert environment_name(plan) == "production-readonly" and vault_roles(plan) == [
        "finance_report-production-readonly"
    ]
    preview = steps(plan)[_step_index(plan, r"pulumi preview --stack production")]["run"]
    m = re.search(r"--save-plan (\S+)", preview)
    assert m, "the production preview must --save-plan"
    plan_file = m.group(1)
    assert "GITHUB_STEP_SUMMARY" in preview, "what reviewers approve is shown in the job summary"
    assert _step_index(plan, r"ops verify-images") < _step_index(plan, r"--save-plan")
    assert _step_index(plan, r"upload-artifact") > _step_index(plan, r"--save-plan")
    assert all("pulumi up" not in s for s in run_scripts(plan))
    # The gate: the deploy job needs the plan and is bound to the `production` environment (its reviewers).
    assert deploy["needs"] == "plan" and environment_name(deploy) == "production"
    fetch = _step_index(deploy, r"gh run download")
    check = _step_index(deploy, r"sha256sum --check")
    login = _step_index(deploy, r"hashicorp/vault-action@")
    up = _step_index(deploy, r"pulumi up")
    assert fetch <= check < up and login < up
    up_script = steps(deploy)[up]["run"]
    assert f"--plan {plan_file}" in up_script
    assert all(re.search(r"pulumi up\b(?!.*--plan)", line) is None for line in up_script.splitlines())
    assert vault_roles(deploy) == ["finance_report-production"]
    assert _step_index(deploy, r"ops smoke") > up
    assert "--previous" in steps(deploy)[_step_index(deploy, r"ops smoke")]["run"]


def test_production_does_not_build_images() -> None:
    for job in jobs(WF["production.yml"]).values():
        assert not any("docker/build-push-action" in u or "setup-buildx" in u for u in uses(job))
        assert job["permissions"].get("packages") == "read"


@pytest.mark.parametrize(
    ("name", "environment", "secrets"),
    [("pr-environment.yml", None, set()), ("staging.yml", "staging", {"GHCR_PUSH_TOKEN"})],
)
def test_images_are_built_by_a_job_without_identities_before_the_deploy(
    name: str, environment: str | None, secrets: set[str]
) -> None:
    """PR images: the PR's own GITHUB_TOKEN (PR packages only). Staging's: the staging push credential."""
    wf = jobs(WF[name])
    images, deploy = wf["images"], wf["deploy"]
    assert "images" in ([deploy["needs"]] if isinstance(deploy["needs"], str) else deploy["needs"])
    assert vault_roles(images) == [] and secrets_used(images) == secrets and environment_name(images) == environment
    builds = [s for s in steps(images) if str(s.get("uses", "")).startswith("docker/build-push-action@")]
    assert [s["with"]["context"] for s in builds] == [
        "${{ steps.plan.outputs.backend_context }}",
        "${{ steps.plan.outputs.frontend_context }}",
    ]
    assert all(s["with"]["push"] is True for s in builds)
    assert not any("docker/" in u for u in uses(deploy)), "the deploy job pushes nothing"


def test_staging_releases_after_a_healthy_deploy_with_the_release_app() -> None:
    wf = jobs(WF["staging.yml"])
    deploy, release = wf["deploy"], wf["release"]
    assert _step_index(deploy, r"pulumi up --stack staging") < _step_index(deploy, r"ops smoke --stack staging")
    assert release["needs"] == "deploy" and environment_name(release) == "staging"
    assert _step_index(release, r"ops next-version") < _step_index(release, r"ops app-token")
    assert (
        _step_index(release, r"ops app-token") < _step_index(release, r"git/refs") < _step_index(release, r"ops retag")
    )
    tag = steps(release)[_step_index(release, r"git/refs")]
    assert tag["env"]["GH_TOKEN"] == "${{ steps.app.outputs.token }}", "only the release App may create v* tags"
    assert secrets_used(release) == {"RELEASE_APP_PRIVATE_KEY", "GHCR_PUSH_TOKEN"}
    assert vault_roles(release) == ["finance_report-staging"]  # the release record: staging's identity only
    assert _step_index(release, r"hashicorp/vault-action@") < _step_index(release, r"ops retag")


def test_drift_runs_each_stack_with_its_identity_and_one_issue_job() -> None:
    wf = jobs(WF["drift.yml"])
    assert vault_roles(wf["staging"]) == ["finance_report-staging"]
    assert vault_roles(wf["production"]) == ["finance_report-production-readonly"]
    assert environment_name(wf["production"]) == "production-readonly"
    assert "drift-check --stack staging" in run_scripts(wf["staging"])[0]
    assert "drift-check --stack production" in run_scripts(wf["production"])[0]
    assert wf["issue"]["needs"] == ["staging", "production"] and "always()" in wf["issue"]["if"]
    assert vault_roles(wf["issue"]) == []


# ---- hygiene ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "job_id", "job"), ALL_JOBS, ids=[f"{n}:{j}" for n, j, _ in ALL_JOBS])
def test_no_expression_is_expanded_inside_a_script(name: str, job_id: str, job: dict[str, Any]) -> None:
    """Values reach scripts through `env:` only, so no input can become shell code."""
    for script in run_scripts(job):
        assert "${{" not in script, f"{name}:{job_id}: {script[:80]}"


@pytest.mark.parametrize(("name", "job_id", "job"), ALL_JOBS, ids=[f"{n}:{j}" for n, j, _ in ALL_JOBS])
def test_checkouts_do_not_persist_credentials(name: str, job_id: str, job: dict[str, Any]) -> None:
    for s in steps(job):
        if str(s.get("uses", "")).startswith("actions/checkout@"):
            assert s["with"]["persist-credentials"] is False


def test_comment_steps_never_fail_the_pr() -> None:
    for name in ("pr-environment.yml", "pr-fork-notice.yml"):
        for job in jobs(WF[name]).values():
            for s in steps(job):
                if "comment" in str(s.get("name", "")):
                    assert s.get("continue-on-error") is True, f"{name}: {s['name']}"


def test_ci_job_names_are_the_required_checks() -> None:
    assert ci_job_names() == list(REQUIRED_CHECKS)


# ---- agreement with the Vault bootstrap (the roles' claims, audience, transit key) -----------------
_REF_OF = {
    "pull_request": "refs/pull/7/merge",
    "pull_request_target": "refs/heads/main",
    "push": "refs/heads/main",
    "schedule": "refs/heads/main",
    "workflow_dispatch": "refs/heads/main",
}


def test_every_vault_login_matches_a_bootstrapped_jwt_role() -> None:
    from fnmatch import fnmatchcase

    from components.vault.authority import JWT_ROLES, PREVIEW_GROUP, transit_key
    from components.vault.connection import DEFAULT_JWT_AUDIENCE

    roles = {r.name: r for r in JWT_ROLES}
    for name, job_id, job in ALL_JOBS:
        env = environment_name(job)
        for s in steps(job):
            if not str(s.get("uses", "")).startswith("hashicorp/vault-action@"):
                continue
            role = roles.get(s["with"]["role"])
            assert role is not None, f"{name}:{job_id}: no bootstrapped JWT role {s['with']['role']}"
            assert s["with"]["jwtGithubAudience"] == DEFAULT_JWT_AUDIENCE
            claim = "pr-7" if env == PR_NUMBER_ENV else str(env)  # what GitHub puts in the token for PR 7
            match = fnmatchcase if role.glob else str.__eq__
            assert any(match(claim, pattern) for pattern in role.environments), f"{name}:{job_id}: {claim}"
            # and the event and ref GitHub puts in the token for this workflow's triggers
            runs = [(event, _REF_OF[event]) for event in triggers(WF[name])]
            if name == "production.yml":
                runs = [(event, "refs/tags/v1.2.3") for event, _ in runs]
            assert any(
                event in role.events and any(fnmatchcase(ref, pattern) for pattern in role.refs) for event, ref in runs
            ), f"{name}:{job_id}: {runs} against {role.name} {role.events} {role.refs}"
    # PR stacks are opened through ops, which takes their secrets provider from the authority (transit_key).
    from ops.stack_files import secrets_provider

    assert secrets_provider("pr-7") == f"hashivault://{transit_key(PREVIEW_GROUP)}"
    scripts = [str(s.get("run", "")) for _, _, job in ALL_JOBS for s in steps(job)]
    assert any("python -m ops open-stack --stack" in r for r in scripts)


def test_pr_stacks_and_the_reaper_use_the_pr_dokploy_instance_of_the_model() -> None:
    """PR composes belong on a Dokploy instance of their own (docs/security.md); the model names it."""
    from components.environment import environment_for

    pr, staging = environment_for("pr-7"), environment_for("staging", {"imageTag": "sha-abc1234"})
    assert (pr.dokploy_url_variable, staging.dokploy_url_variable) == ("DOKPLOY_PREVIEW_URL", "DOKPLOY_URL")
    expected = f"${{{{ vars.{pr.dokploy_url_variable} || vars.DOKPLOY_URL }}}}"
    assert WF["pr-environment.yml"]["env"]["DOKPLOY_URL"] == expected
    (reap,) = (s for s in steps(jobs(WF["reaper.yml"])["reap"]) if s.get("id") == "reap")
    assert reap["env"]["DOKPLOY_URL"] == expected
