"""JWT roles for GitHub Actions identities: tokens signed by a fixture key (jwt_validation_pubkeys) log in
for the right repository and environment claim and are refused for anything else."""

from __future__ import annotations

import time

import hvac.exceptions
import pytest

from components.vault.authority import JWT_ROLES, READONLY_POLICY, stack_policy
from tests.vault.conftest import ROLE_FOR_ENVIRONMENT, Authority, new_signer

EXPECTED_POLICY = {
    "staging": stack_policy("staging"),
    "production": stack_policy("production"),
    "production-readonly": READONLY_POLICY,
    "staging-preview": "finance_report-pr-preview",
    "pr-7": stack_policy("preview"),
}


@pytest.mark.parametrize("environment", sorted(ROLE_FOR_ENVIRONMENT))
def test_right_repository_and_environment_logs_in_with_its_policy(authority: Authority, environment: str) -> None:
    info = authority.as_token(authority.login(environment)).lookup_self()
    assert EXPECTED_POLICY[environment] in info["policies"]
    assert not {p for p in info["policies"] if p.startswith("finance_report")} - {EXPECTED_POLICY[environment]}


def test_every_role_is_covered() -> None:
    assert {r.name for r in JWT_ROLES} == set(ROLE_FOR_ENVIRONMENT.values())


_PAST = int(time.time()) - 900


@pytest.mark.parametrize(
    ("role_env", "environment", "claims"),
    [
        ("staging", "production", {}),  # the other environment
        ("production", "staging", {}),
        ("production", "production-readonly", {}),
        ("production-readonly", "production", {}),
        ("staging-preview", "staging", {}),
        ("pr-7", "staging", {}),
        ("pr-7", "production", {}),
        ("staging", None, {}),  # a job without an environment
        ("staging", "staging", {"repository": "someone/finance_report"}),  # another repository (a fork)
        ("staging", "staging", {"repository": "wangzitian0/finance_report-fork"}),
        ("staging", "staging", {"aud": "sigstore"}),  # another audience
        ("staging", "staging", {"iss": "https://evil.example"}),
        ("staging", "staging", {"exp": _PAST + 300, "iat": _PAST, "nbf": _PAST}),  # expired
    ],
)
def test_wrong_claims_are_refused(
    authority: Authority, role_env: str, environment: str | None, claims: dict[str, object]
) -> None:
    token = authority.signer.sign(environment=environment, **claims)
    with pytest.raises((hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden)):
        hvac.Client(url=authority.address).auth.jwt.jwt_login(
            role=ROLE_FOR_ENVIRONMENT[role_env], jwt=token, path="jwt"
        )


def test_a_token_signed_by_another_key_is_refused(authority: Authority) -> None:
    other = new_signer()
    with pytest.raises((hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden)):
        hvac.Client(url=authority.address).auth.jwt.jwt_login(
            role="finance_report-staging", jwt=other.sign(environment="staging"), path="jwt"
        )


def test_pr_glob_accepts_any_pr_environment_only(authority: Authority) -> None:
    authority.login("pr-123", role="finance_report-preview")
    authority.login("pr-reaper", role="finance_report-preview")  # the reaper's environment
    with pytest.raises((hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden)):
        authority.login("staging-pr-1", role="finance_report-preview")
