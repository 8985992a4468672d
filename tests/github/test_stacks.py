"""Acceptance, per stack kind under mocks: exactly which GitHub objects each stack owns, and its images."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.environment import environment_for
from components.github import (
    GITHUB_ACTIONS_APP_ID,
    READONLY_ENVIRONMENT,
    RELEASE_TAG_PATTERN,
    REQUIRED_CHECKS,
    STACK_VARIABLE,
    URL_VARIABLE,
    GithubArgs,
    GithubRepository,
)
from components.images import is_digest_reference
from tests.github.mocking import GITHUB_TEAM_IDS, GITHUB_USER_IDS, Recorder, is_secret, reveal, run
from tests.github.program import DIGESTS, REPOSITORY, fake_registry, stack_program

ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
PROVIDER = "pulumi:providers:github"


def summary(rec: Recorder) -> set[tuple[str, ...]]:
    """Every custom resource as a comparable tuple of what matters about it."""
    out: set[tuple[str, ...]] = set()
    for r in rec.custom():
        i = r.inputs
        if r.type == ENV:
            out.add(("environment", i["environment"]))
        elif r.type == POLICY:
            kind = "branch" if i.get("branchPattern") else "tag"
            out.add(("policy", i["environment"], kind, i.get("branchPattern") or i["tagPattern"]))
        elif r.type == VARIABLE:
            out.add(("variable", i["environment"], i["variableName"], i["value"]))
        elif r.type == RULESET:
            out.add(("ruleset", i["name"]))
        else:
            out.add(("other", r.type, r.name))
    return out


def assert_wired(rec: Recorder) -> None:
    """Every GitHub resource uses our explicit provider and hangs off the component; all in one repository."""
    (provider,) = rec.custom(PROVIDER)
    assert provider.inputs["owner"] == "wangzitian0"
    for r in rec.custom():
        assert r.provider.startswith("urn:pulumi:") and "pulumi:providers:github::github-provider" in r.provider
        assert "financeReport:github:Repository" in r.parent
        assert r.inputs["repository"] == REPOSITORY


def test_pr7_owns_its_environment_and_variables_and_nothing_shared(plugins: Path) -> None:
    rec = run("pr-7", lambda: stack_program("pr-7", {"imageTag": "pr-7-abc1234"}))
    assert summary(rec) == {
        ("environment", "pr-7"),
        ("variable", "pr-7", STACK_VARIABLE, "pr-7"),
        ("variable", "pr-7", URL_VARIABLE, "https://report-pr-7.zitian.party"),
    }
    assert_wired(rec)
    env = rec.one(ENV, environment="pr-7")
    # No gates on a throwaway environment, and nothing protected: `pulumi destroy` removes all of it.
    assert not {"deploymentBranchPolicy", "reviewers", "waitTimer"} & env.inputs.keys()
    assert not any(r.protect for r in rec.resources)
    assert not rec.custom(RULESET) and not rec.invokes


def test_staging_owns_the_gates_and_mains_protection(plugins: Path) -> None:
    rec = run("staging", lambda: stack_program("staging", {"imageTag": "sha-abc1234"}))
    assert summary(rec) == {
        ("environment", "staging"),
        ("environment", "production"),
        ("environment", READONLY_ENVIRONMENT),
        ("policy", "staging", "branch", "main"),
        ("policy", "production", "tag", RELEASE_TAG_PATTERN),
        ("policy", READONLY_ENVIRONMENT, "branch", "main"),
        ("policy", READONLY_ENVIRONMENT, "tag", RELEASE_TAG_PATTERN),  # production's plan job runs on the tag
        ("environment", "staging-preview"),  # PR previews: no branch policy, decrypt-only Vault role
        ("environment", "pr-reaper"),
        ("policy", "pr-reaper", "branch", "main"),
        ("environment", "pr-admission"),
        ("policy", "pr-admission", "branch", "main"),
        ("variable", "staging", STACK_VARIABLE, "staging"),
        ("variable", "staging", URL_VARIABLE, "https://report-staging.zitian.party"),
        ("ruleset", "main (finance-report)"),
        ("ruleset", "release tags (finance-report)"),
    }
    assert_wired(rec)
    custom_only = {"customBranchPolicies": True, "protectedBranches": False}
    for name in ("staging", "production", READONLY_ENVIRONMENT):
        env = rec.one(ENV, environment=name)
        assert env.inputs["deploymentBranchPolicy"] == custom_only
        assert env.inputs["canAdminsBypass"] is False
        assert env.protect, f"{name} is shared and must be protected"
    # Everything that admits release tags is reviewed (tests/github/test_gates.py tries to cross them).
    for name in ("production", READONLY_ENVIRONMENT):
        reviewed = rec.one(ENV, environment=name).inputs
        assert reviewed["preventSelfReview"] is True
        assert reviewed["waitTimer"] == 10
        assert reviewed["reviewers"] == [
            {"users": [GITHUB_USER_IDS["alice"], 7], "teams": [GITHUB_TEAM_IDS["release-managers"]]}
        ]
    assert "reviewers" not in rec.one(ENV, environment="staging").inputs

    ruleset = rec.one(RULESET, target="branch")
    assert ruleset.protect
    assert ruleset.inputs["target"] == "branch" and ruleset.inputs["enforcement"] == "active"
    assert ruleset.inputs["conditions"] == {"refName": {"includes": ["refs/heads/main"], "excludes": []}}
    rules = ruleset.inputs["rules"]
    assert rules["deletion"] is True and rules["nonFastForward"] is True
    assert rules["requiredStatusChecks"] == {
        "requiredChecks": [{"context": c, "integrationId": GITHUB_ACTIONS_APP_ID} for c in REQUIRED_CHECKS],
        "strictRequiredStatusChecksPolicy": True,
    }
    # staging's variables live in the (protected) environment it owns; variables themselves are not protected.
    assert not any(r.protect for r in rec.custom(VARIABLE))


def test_production_owns_only_its_variables(plugins: Path) -> None:
    rec = run("production", lambda: stack_program("production", {"imageTag": "v1.2.3"}))
    assert summary(rec) == {
        ("variable", "production", STACK_VARIABLE, "production"),
        ("variable", "production", URL_VARIABLE, "https://report.zitian.party"),
        ("variable", READONLY_ENVIRONMENT, STACK_VARIABLE, "production"),
        ("variable", READONLY_ENVIRONMENT, URL_VARIABLE, "https://report.zitian.party"),
    }
    assert_wired(rec)


@pytest.mark.parametrize("stack", ["pr-7", "staging", "production"])
def test_no_secret_is_ever_written_to_github(plugins: Path, stack: str) -> None:
    tags = {"pr-7": "pr-7-abc1234", "staging": "sha-abc1234", "production": "v1.2.3"}
    rec = run(stack, lambda: stack_program(stack, {"imageTag": tags[stack]}))
    assert not [r for r in rec.custom() if "Secret" in r.type]
    assert all(r.type in (ENV, POLICY, VARIABLE, RULESET) for r in rec.custom())


def test_images_per_stack_kind(plugins: Path) -> None:
    calls: list[tuple[str, str]] = []
    results: dict[str, list[dict[str, str]]] = {}
    for stack, tag in (("pr-7", "pr-7-abc1234"), ("staging", "sha-abc1234"), ("production", "v1.2.3")):

        def program(stack: str = stack, tag: str = tag) -> object:
            out = stack_program(stack, {"imageTag": tag}, resolver=fake_registry(calls))
            return out.apply(lambda v, s=stack: results.__setitem__(s, v))

        run(stack, program)
    repo = "ghcr.io/wangzitian0/finance_report"
    assert results["pr-7"] == [
        # PR images live in their own packages: a PR job may write those, never the release ones
        {"backend": f"{repo}-preview-backend:pr-7-abc1234", "frontend": f"{repo}-preview-frontend:pr-7-abc1234"},
        {},
    ]
    assert results["staging"] == [
        {"backend": f"{repo}-backend:sha-abc1234", "frontend": f"{repo}-frontend:sha-abc1234"},
        {},
    ]
    refs, digests = results["production"]
    assert refs == {c: f"{repo}-{c}@{DIGESTS[c]}" for c in ("backend", "frontend")}
    assert all(is_digest_reference(r) for r in refs.values()) and digests == DIGESTS
    # Only production asked the registry, for exactly its release tag.
    assert calls == [(f"{repo}-backend", "v1.2.3"), (f"{repo}-frontend", "v1.2.3")]


def test_the_token_is_a_secret_and_optional(plugins: Path) -> None:
    env = environment_for("pr-7", {"imageTag": "pr-7-abc1234"})
    rec = run("pr-7", lambda: GithubRepository("github", GithubArgs(env, "wangzitian0", REPOSITORY, token="ghp_x")))
    (provider,) = rec.custom(PROVIDER)
    assert is_secret(provider.inputs["token"]) and reveal(provider.inputs["token"]) == "ghp_x"
    rec = run("pr-7", lambda: GithubRepository("github", GithubArgs(env, "wangzitian0", REPOSITORY)))
    (provider,) = rec.custom(PROVIDER)
    assert "token" not in provider.inputs  # the provider reads GITHUB_TOKEN itself
