"""The admin bootstrap: idempotent, scoped per environment, and the identities it creates are fenced."""

from __future__ import annotations

import subprocess
import sys

import hvac
import hvac.exceptions
import pytest

from components.vault import authority as A
from ops.vault_bootstrap import BootstrapOptions, bootstrap, group_for
from tests.support.leaks import assert_no_leak
from tests.vault.conftest import REPOSITORY_ID, Authority, bootstrap_options


def test_first_run_created_everything_and_a_second_run_changes_nothing(authority: Authority) -> None:
    assert {c.action for c in authority.changes} <= {"created", "unchanged"}
    names = {c.name for c in authority.changes if c.action == "created"}
    assert {"finance_report-staging-app", "finance_report-production-postgres", "finance_report-local-redis"} <= names
    assert {A.transit_key(g) for g in ("staging", "production", "preview")} <= names
    again = bootstrap(authority.admin_client(), bootstrap_options(authority.signer))
    assert [str(c) for c in again if c.action != "unchanged"] == []


def test_local_and_pr_bootstrap_touch_only_their_own_objects(authority: Authority) -> None:
    local = bootstrap(authority.admin_client(), BootstrapOptions(groups=("local",), jwt=None))
    assert {c.name for c in local} == {
        "secret", "approle", "approle lockout off",
        "finance_report-local-postgres", "finance_report-local-redis", "finance_report-local-app",
        "finance_report-stack-local",
    }  # fmt: skip
    assert group_for("pr-42") == A.PREVIEW_GROUP  # the bootstrap has nothing per PR: admit_pr does that
    pr = bootstrap(authority.admin_client(), BootstrapOptions(groups=(group_for("pr-42"),), jwt=None))
    assert all("staging" not in c.name and "production" not in c.name for c in pr)
    assert all(c.action == "unchanged" for c in local + pr)


def test_agent_approles_give_their_read_policy_only_in_short_tokens(authority: Authority) -> None:
    role = authority.admin().read("auth/approle/role/finance_report-staging-app")["data"]
    assert role["token_policies"] == ["finance_report-staging-app"] and role["token_no_default_policy"] is True
    assert role["bind_secret_id"] is True and 0 < role["token_max_ttl"] <= 24 * 3600
    rid = authority.admin().read("auth/approle/role/finance_report-staging-app/role-id")["data"]["role_id"]
    assert rid == "finance_report-staging-app"  # fixed and public: the secret_id is the credential
    with pytest.raises(hvac.exceptions.InvalidRequest):  # the role_id alone logs nobody in
        hvac.Client(url=authority.address).auth.approle.login(rid, "not-a-secret-id")


def test_staging_identity_mints_no_service_credential(authority: Authority) -> None:
    """Finding 1: staging's CI identity cannot create service tokens or agent secret_ids, so nothing it
    runs (and nothing in its state) holds a long-lived service credential."""
    staging = hvac.Client(url=authority.address, token=authority.identity("staging"))
    for path in (
        "auth/token/create/finance_report-staging-app",
        "auth/approle/role/finance_report-staging-app/secret-id",
    ):
        with pytest.raises(hvac.exceptions.Forbidden):
            staging.write_data(path, data={})


def test_staging_identity_cannot_escalate_or_reach_production(authority: Authority) -> None:
    staging = hvac.Client(url=authority.address, token=authority.identity("staging"))
    with pytest.raises(hvac.exceptions.Forbidden):
        staging.sys.create_or_update_acl_policy("evil", 'path "*" { capabilities = ["sudo", "read"] }')
    with pytest.raises(hvac.exceptions.Forbidden):
        staging.write_data("auth/token/create/finance_report-production-app", data={})
    authority.admin().secrets.kv.v2.create_or_update_secret(
        "finance_report/production/app", {"OPENROUTER_API_KEY": "prod-only"}, mount_point="secret"
    )
    with pytest.raises(hvac.exceptions.Forbidden):
        staging.secrets.kv.v2.read_secret_version(
            "finance_report/production/app", mount_point="secret", raise_on_deleted_version=True
        )
    with pytest.raises(hvac.exceptions.Forbidden):
        staging.write_data("transit/decrypt/finance-report-production", data={"ciphertext": "vault:v1:AAAA"})
    # ...while it can do its own job
    staging.secrets.kv.v2.create_or_update_secret("finance_report/staging/probe", {"k": "v"}, mount_point="secret")


@pytest.mark.parametrize("who", ["pr-7", "local"])
def test_pr_and_local_identities_never_reach_staging_or_production(authority: Authority, who: str) -> None:
    token = authority.identity("pr-7") if who == "pr-7" else authority.local_token
    caps = authority.as_token(token).capabilities(
        [
            f"secret/{kind}/finance_report/{env}/{svc}"
            for kind in ("data", "metadata")
            for env in ("staging", "production")
            for svc in ("app", "postgres", "redis")
        ]
        + [f"auth/token/create/finance_report-{env}-app" for env in ("staging", "production")]
        + [f"transit/{op}/finance-report-{env}" for op in ("encrypt", "decrypt") for env in ("staging", "production")]
    )
    assert {p: c for p, c in caps.items() if c != {"deny"}} == {}


def test_readonly_identity_cannot_change_anything(authority: Authority) -> None:
    ro = authority.as_token(authority.identity("production-readonly"))
    caps = ro.capabilities(
        [
            "secret/data/finance_report/production/app",
            "auth/token/create/finance_report-production-app",
            "transit/decrypt/finance-report-production",
            "transit/encrypt/finance-report-production",
        ]
    )
    assert caps == {
        "secret/data/finance_report/production/app": {"read"},
        "auth/token/create/finance_report-production-app": {"deny"},
        "transit/decrypt/finance-report-production": {"update"},
        "transit/encrypt/finance-report-production": {"deny"},
    }


# Every JWT role a `pull_request` job could try, with the environment names a PR's workflow could write.
_PR_ATTEMPTS = [
    (role.name, env)
    for role in A.JWT_ROLES
    for env in ("pr-7", "staging", "staging-preview", "production", "production-readonly", "pr-reaper")
]


def test_no_pull_request_identity_decrypts_or_reads_staging(authority: Authority) -> None:
    """Hostile (finding 1): the PR-preview-of-staging identity is gone. Whatever role and environment a PR's
    workflow asks for, its token never decrypts with staging's (or production's) transit key, and never
    reads staging's KV or the release records."""
    crossed = []
    for role, env in _PR_ATTEMPTS:
        claims = {"event_name": "pull_request", "ref": "refs/pull/7/merge"}
        try:
            token = authority.login(env, role=role, **claims)
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden):
            continue  # refused at login
        caps = authority.as_token(token).capabilities(
            [
                "transit/decrypt/finance-report-staging",
                "transit/decrypt/finance-report-production",
                "secret/data/finance_report/staging/app",
                "secret/data/finance_report/production/app",
                f"secret/data/{A.release_path('v1.2.3')}",
            ]
        )
        crossed += [f"{role}@{env}: {p} {c}" for p, c in caps.items() if c != {"deny"}]
    assert crossed == []


def test_cli_is_idempotent_and_prints_names_only(authority: Authority, tmp_path: pytest.TempPathFactory) -> None:
    key_file = authority.bao.data_dir / "jwt.pub"
    key_file.write_text(authority.signer.public_pem)
    args = [sys.executable, "-m", "ops.vault_bootstrap", "--openbao-dir", str(authority.bao.data_dir)]
    args += ["--env", "staging", "--env", "production", "--env", "pr-3", "--jwt-pubkey-file", str(key_file)]
    args += ["--repository-id", REPOSITORY_ID]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "0 created, 0 updated" in proc.stdout
    assert_no_leak(proc.stdout + proc.stderr, [authority.bao.root_token, authority.local_token], "bootstrap output")
    bad = subprocess.run([*args[:5], "--env", "qa"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "qa" in bad.stderr
