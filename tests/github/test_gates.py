"""Hostile, under Pulumi mocks: the gates the owner stack registers, tried with the refs a PR or a writer has.

GitHub decides three things we cannot run here: whether a job's ref may use an environment (deployment
policies), who may create a `v*` tag (the tag ruleset), and what lands on main (main's ruleset). The
registered inputs are what GitHub enforces, so the tests read them back and evaluate them as GitHub does
(typed branch/tag policies, `File.fnmatch` patterns where `*` stops at `/`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.environment import environment_for
from components.github import (
    ADMISSION_ENVIRONMENT,
    READONLY_ENVIRONMENT,
    REAPER_ENVIRONMENT,
    GithubArgs,
    GithubConfigError,
    preflight,
)
from tests.github.mocking import Recorder, run
from tests.github.program import OWNER, RELEASE_APP_ID, REPOSITORY, REVIEWERS, stack_program

ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
PROTECTED = ("staging", "production", READONLY_ENVIRONMENT, REAPER_ENVIRONMENT, ADMISSION_ENVIRONMENT)


@pytest.fixture
def staging(plugins: Path) -> Recorder:
    return run("staging", lambda: stack_program("staging", {"imageTag": "sha-abc1234"}))


def _fnmatch(pattern: str, name: str) -> bool:
    """GitHub's deployment-policy patterns (Ruby File.fnmatch, FNM_PATHNAME): `*` never crosses `/`."""
    rx = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, name) is not None


def admits(rec: Recorder, environment: str, ref: str) -> bool:
    """Whether GitHub lets a job on `ref` use `environment`, from the registered environment and policies."""
    env = rec.one(ENV, environment=environment).inputs
    if "deploymentBranchPolicy" not in env:
        return True  # no policy: any ref
    kind, _, name = ref.removeprefix("refs/").partition("/")
    policies = [r.inputs for r in rec.custom(POLICY) if r.inputs["environment"] == environment]
    if kind == "heads":
        return any(_fnmatch(p["branchPattern"], name) for p in policies if p.get("branchPattern"))
    if kind == "tags":
        return any(_fnmatch(p["tagPattern"], name) for p in policies if p.get("tagPattern"))
    return False  # refs/pull/<N>/merge is neither a branch nor a tag


# What a same-repository PR author has: the PR's merge ref, the head branch they pushed (any name they like).
PR_REFS = [
    "refs/pull/7/merge",
    "refs/heads/feature/x",
    "refs/heads/main-but-not",
    "refs/heads/v1.2.3",  # a *branch* named like a release
    "refs/heads/pr-7",
]


@pytest.mark.parametrize("ref", PR_REFS)
@pytest.mark.parametrize("environment", PROTECTED)
def test_a_pr_that_names_a_protected_environment_is_refused(staging: Recorder, environment: str, ref: str) -> None:
    """A PR edits its workflow to `environment: staging` (or production, ...): the policy refuses its ref."""
    assert not admits(staging, environment, ref)


def test_the_environments_admit_exactly_main_or_release_tags(staging: Recorder) -> None:
    assert admits(staging, "staging", "refs/heads/main") and not admits(staging, "staging", "refs/tags/v1.2.3")
    assert admits(staging, "production", "refs/tags/v1.2.3") and not admits(staging, "production", "refs/heads/main")
    assert admits(staging, READONLY_ENVIRONMENT, "refs/tags/v1.2.3")
    assert admits(staging, REAPER_ENVIRONMENT, "refs/heads/main")
    assert not admits(staging, "production", "refs/tags/v1.2.3/x")  # `*` does not cross `/`
    for name in ("staging", "production", READONLY_ENVIRONMENT, REAPER_ENVIRONMENT):
        assert staging.one(ENV, environment=name).inputs["canAdminsBypass"] is False


def test_whatever_admits_a_tag_has_required_reviewers(staging: Recorder) -> None:
    """Environments with a policy (those that hold anything; the open ones hold nothing, see tests/workflows)."""
    for env in staging.custom(ENV):
        name = env.inputs["environment"]
        if "deploymentBranchPolicy" in env.inputs and admits(staging, name, "refs/tags/v9.9.9"):
            assert env.inputs.get("reviewers") and env.inputs["preventSelfReview"] is True, name


def test_only_the_release_app_may_create_move_or_delete_a_release_tag(staging: Recorder) -> None:
    (tags,) = [r for r in staging.custom(RULESET) if r.inputs["target"] == "tag"]
    assert tags.protect and tags.inputs["enforcement"] == "active"
    assert tags.inputs["conditions"] == {"refName": {"includes": ["refs/tags/v*"], "excludes": []}}
    rules = tags.inputs["rules"]
    assert rules["creation"] is True and rules["update"] is True
    assert rules["deletion"] is True and rules["nonFastForward"] is True
    assert tags.inputs["bypassActors"] == [
        {"actorId": RELEASE_APP_ID, "actorType": "Integration", "bypassMode": "always"}
    ], "one bypass actor: the release App (no admin, no role, no GITHUB_TOKEN)"


def test_main_takes_a_reviewed_pull_request_and_nobody_bypasses(staging: Recorder) -> None:
    (main,) = [r for r in staging.custom(RULESET) if r.inputs["target"] == "branch"]
    assert main.inputs["rules"]["pullRequest"] == {
        "requiredApprovingReviewCount": 1,
        "dismissStaleReviewsOnPush": True,
        "requireLastPushApproval": True,
        "requireCodeOwnerReview": False,
        "requiredReviewThreadResolution": False,
    }
    assert main.inputs.get("bypassActors", []) == []


@pytest.mark.parametrize("app_id", [None, 0, -1])
def test_the_owner_stack_refuses_to_run_without_the_release_app(plugins: Path, app_id: int | None) -> None:
    env = environment_for("staging", {"imageTag": "sha-abc1234"})
    args = GithubArgs(env, OWNER, REPOSITORY, reviewers=REVIEWERS, release_app_id=app_id)
    with pytest.raises(GithubConfigError, match=r"financeReport:releaseAppId"):
        preflight(args)
