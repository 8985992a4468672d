"""JWT roles for GitHub Actions identities: tokens signed by a fixture key (jwt_validation_pubkeys) log in
for the right repository id, event, ref and environment claims and are refused for anything else.

The hostile half: a PR's workflow file is the PR's own, so it can name any environment. A `pull_request`
job's `ref` (refs/pull/<N>/merge) is set by GitHub, and that alone decides which PR's paths it reaches."""

from __future__ import annotations

import time

import hvac
import hvac.exceptions
import pytest

from components.vault.authority import (
    ADMISSION_POLICY,
    JWT_ROLES,
    READONLY_POLICY,
    REAPER_POLICY,
    release_path,
    stack_policy,
)
from tests.vault.conftest import ROLE_FOR_ENVIRONMENT, Authority, new_signer

EXPECTED_POLICY = {
    "staging": stack_policy("staging"),
    "production": stack_policy("production"),
    "production-readonly": READONLY_POLICY,
    "pr-7": stack_policy("preview"),
    "pr-reaper": REAPER_POLICY,
    "pr-admission": ADMISSION_POLICY,
}
REFUSED = (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden)


@pytest.mark.parametrize("environment", sorted(ROLE_FOR_ENVIRONMENT))
def test_right_claims_log_in_with_their_policy_only(authority: Authority, environment: str) -> None:
    info = authority.as_token(authority.login(environment)).lookup_self()
    assert info["policies"] == [EXPECTED_POLICY[environment]]  # no `default` policy either


def test_every_role_is_covered() -> None:
    assert {r.name for r in JWT_ROLES} == set(ROLE_FOR_ENVIRONMENT.values())


_PAST = int(time.time()) - 900
_PR = {"event_name": "pull_request", "ref": "refs/pull/7/merge"}


@pytest.mark.parametrize(
    ("role_env", "environment", "claims"),
    [
        ("staging", "production", {}),  # the other environment
        ("production", "staging", {}),
        ("production", "production-readonly", {}),
        ("production-readonly", "production", {}),
        ("pr-7", "staging", {}),
        ("pr-7", "production", {}),
        ("staging", None, {}),  # a job without an environment
        ("staging", "staging", {"repository_id": "999"}),  # another repository (a fork, or a re-created name)
        ("staging", "staging", {"aud": "sigstore"}),  # another audience
        ("staging", "staging", {"iss": "https://evil.example"}),
        ("staging", "staging", {"exp": _PAST + 300, "iat": _PAST, "nbf": _PAST}),  # expired
        # a PR that edits its workflow to `environment: staging` (or production, or the reaper's)
        ("staging", "staging", _PR),
        ("production", "production", _PR),
        ("production-readonly", "production-readonly", _PR),
        ("pr-reaper", "pr-reaper", _PR),
        ("pr-admission", "pr-admission", _PR),
        # a branch push or a tag that is not a release does not get staging's or production's identity
        ("staging", "staging", {"ref": "refs/heads/feature"}),
        ("production", "production", {"ref": "refs/heads/main", "ref_type": "branch"}),
        # a PR identity needs a pull_request event on a PR merge ref
        ("pr-7", "pr-7", {"event_name": "push", "ref": "refs/heads/pr-7"}),
    ],
)
def test_wrong_claims_are_refused(
    authority: Authority, role_env: str, environment: str | None, claims: dict[str, object]
) -> None:
    token = authority.signer.sign(environment=environment, **claims)
    with pytest.raises(REFUSED):
        hvac.Client(url=authority.address).auth.jwt.jwt_login(
            role=ROLE_FOR_ENVIRONMENT[role_env], jwt=token, path="jwt"
        )


def test_a_token_signed_by_another_key_is_refused(authority: Authority) -> None:
    other = new_signer()
    with pytest.raises(REFUSED):
        hvac.Client(url=authority.address).auth.jwt.jwt_login(
            role="finance_report-staging", jwt=other.sign(environment="staging"), path="jwt"
        )


def _writes(client: hvac.Client, path: str) -> bool:
    try:
        client.secrets.kv.v2.create_or_update_secret(path, secret={"probe": "x"}, mount_point="secret")
    except REFUSED:
        return False
    return True


def _reads(client: hvac.Client, path: str) -> bool:
    try:
        client.secrets.kv.v2.read_secret_version(path, mount_point="secret", raise_on_deleted_version=True)
    except (*REFUSED, hvac.exceptions.InvalidPath):
        return False
    return True


def test_a_pr_7_job_naming_environment_pr_8_reaches_pr_7_only(authority: Authority) -> None:
    """Hostile: PR 7's workflow says `environment: pr-8`; its token's ref is still refs/pull/7/merge."""
    admin = authority.admin()
    for path in ("finance_report/pr-8/pr-8", "finance_report/staging/probe", "finance_report/production/probe"):
        admin.secrets.kv.v2.create_or_update_secret(path, secret={"K": "v"}, mount_point="secret")
    admin.secrets.kv.v2.create_or_update_secret(release_path("v9.9.9"), secret={"K": "v"}, mount_point="secret")
    token = authority.login("pr-8", ref="refs/pull/7/merge")
    pr7 = hvac.Client(url=authority.address, token=token)
    assert _writes(pr7, "finance_report/pr-7/pr-7")  # its own PR's path
    for path in (
        "finance_report/pr-8/pr-8",
        "finance_report/staging/probe",
        "finance_report/production/probe",
        release_path("v9.9.9"),
    ):
        assert not _reads(pr7, path), f"a pr-7 token read {path}"
        assert not _writes(pr7, path), f"a pr-7 token wrote {path}"
    for role in ("finance_report-pr-8", "finance_report-staging-app", "finance_report-production-app"):
        with pytest.raises(REFUSED):  # nor mint a token for another PR's or environment's services
            pr7.write_data(f"auth/token/create/{role}", data={"entity_alias": "pr-8"})
    # its own role mints only its own alias: a service token for pr-8 is refused
    with pytest.raises(REFUSED):
        pr7.write_data("auth/token/create/finance_report-pr-7", data={"entity_alias": "pr-8"})


def test_a_pr_that_was_never_admitted_reaches_nothing(authority: Authority) -> None:
    token = authority.login("pr-41")  # a valid pull_request token, but PR 41 has no entity
    pr = hvac.Client(url=authority.address, token=token)
    for path in ("finance_report/pr-41/pr-41", "finance_report/pr-/pr-", "finance_report/pr-7/pr-7"):
        assert not _writes(pr, path), path


def test_the_pr_admission_identity_cannot_grant_policies(authority: Authority) -> None:
    """Hostile: admission runs on pull_request_target; even its token may not give an entity policies or a
    PR token role anything but the PR service policy."""
    adm = hvac.Client(url=authority.address, token=authority.login("pr-admission"))
    with pytest.raises(REFUSED):
        adm.write_data("identity/entity/name/finance_report-pr-7", data={"policies": [stack_policy("staging")]})
    with pytest.raises(REFUSED):
        adm.write_data(
            "auth/token/roles/finance_report-pr-7", data={"allowed_policies": ["finance_report-staging-app"]}
        )
    with pytest.raises(REFUSED):
        adm.write_data("identity/entity/name/finance_report-staging", data={"metadata": {"pr_number": "7"}})


def test_the_pr_admission_identity_admits_a_pr(authority: Authority) -> None:
    """What pr-target.yml's admit job does, as its own identity: PR 93's entity, aliases and token role."""
    from components.vault.client import VaultClient
    from components.vault.connection import VaultConnection
    from ops.vault_bootstrap import admit_pr

    adm = VaultClient.for_token(authority.login("pr-admission"), VaultConnection(address=authority.address))
    changes = admit_pr(adm, 93)
    assert {c.action for c in changes} >= {"created"}, changes
    assert {c.action for c in admit_pr(adm, 93)} == {"unchanged"}  # a second run (a new push) changes nothing
