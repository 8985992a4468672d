"""Staging and production stack files work as committed after `make init-stack` (issue 11, build 3).

The admin's checkout runs the make target once per stack against the stack's backend and Vault, and the
resulting stack file is what gets committed; a later CI job is a fresh checkout holding that file, with
only its own Vault identity (the stack's policy) and no passphrase, running what staging.yml runs. Real CLI,
real OpenBao (the transit keys from the bootstrap), the local Dokploy server standing in for Dokploy.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from dokploy_local.testing import LocalDokploy
from tests.stacks.checkouts import Jobs
from tests.support.leaks import Secret, assert_no_leak
from tests.support.pulumi_cli import REPO, pulumi_available
from tests.vault.conftest import Authority

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

COMMITTED_URL = "https://cloud.zitian.party"  # the committed dokploy:url, which no test can reach


def test_init_stack_then_a_fresh_ci_checkout_opens_staging_and_production_as_committed(
    tmp_path: Path, authority: Authority, dokploy_server: LocalDokploy
) -> None:
    # After `make bootstrap-vault` (the authority fixture), the values only a person can provide (README:
    # never invented) go into Vault once before staging's first deploy.
    provided = {"S3_ACCESS_KEY": "operator-s3-key", "S3_SECRET_KEY": "operator-s3-secret", "OPENROUTER_API_KEY": "k"}
    authority.admin().secrets.kv.v2.create_or_update_secret(
        "finance_report/staging/app", provided, mount_point="secret"
    )
    jobs = Jobs(tmp_path, {"VAULT_ADDR": authority.address})
    root = Secret(authority.bao.root_token)
    operator = jobs.new({"VAULT_TOKEN": root})

    # Refused before anything changes: no backend named (never the local default), no reviewers for the
    # stack that needs them (tests/ops/test_stack_files.py holds that message).
    res = operator.make("init-stack", "REVIEWERS=alice", check=False)
    assert res.code == 2 and "make init-stack: set STACK=staging or STACK=production" in res.output, res.output
    res = operator.make("init-stack", "STACK=staging", "REVIEWERS=alice", unset=("PULUMI_BACKEND_URL",), check=False)
    assert res.code == 2 and "set PULUMI_BACKEND_URL to the staging stack's backend" in res.output, res.output
    assert not (operator.root / ".pulumi-state").exists() or not any((operator.root / ".pulumi-state").iterdir())

    # The one admin step per stack.
    committed = (REPO / "Pulumi.staging.yaml").read_text()
    operator.make(
        "init-stack", "STACK=staging", "REVIEWERS=alice,bob", "REVIEWER_TEAMS=release-managers", "RELEASE_APP_ID=4242"
    )
    operator.make("init-stack", "STACK=production")
    staging_file = (operator.root / "Pulumi.staging.yaml").read_text()
    doc = yaml.safe_load(staging_file)
    assert doc["secretsprovider"] == "hashivault://finance-report-staging"
    assert base64.b64decode(doc["encryptedkey"]).startswith(b"vault:v1:")  # wrapped by staging's transit key
    assert doc["config"]["financeReport:productionReviewers"] == {
        "users": ["alice", "bob"],
        "teams": ["release-managers"],
    }
    assert staging_file.startswith(committed.split("config:")[0])  # the comments and the provider line stay
    production = yaml.safe_load((operator.root / "Pulumi.production.yaml").read_text())
    assert production["secretsprovider"] == "hashivault://finance-report-production"
    assert "financeReport:productionReviewers" not in production["config"]  # staging owns production's gate

    # A later staging.yml run: a fresh checkout with the committed file, staging's identity, no passphrase.
    # (Only the Dokploy address differs from the committed file: the local server stands in for it.)
    ci = jobs.new(
        {"VAULT_TOKEN": authority.login("staging"), "DOKPLOY_API_KEY": dokploy_server.api_key},
        files={"Pulumi.staging.yaml": staging_file.replace(COMMITTED_URL, dokploy_server.url)},
    )
    ci.pulumi("config", "set", "--stack", "staging", "financeReport:imageTag", "sha-abc1234")
    before = len(dokploy_server.requests())
    up = ci.pulumi("up", "--stack", "staging", "--yes", "--non-interactive", "--diff", check=False)
    # Past the secrets provider, the preflight and the reviewers: the one thing this machine lacks is the
    # GitHub provider plugin (GitHub is unreachable here), and the program stops before changing anything.
    assert "passphrase" not in up.output.lower() and "required reviewer" not in up.output, up.output[-3000:]
    assert "releaseAppId" not in up.output, up.output[-3000:]
    assert "needs the Pulumi 'github' resource plugin" in up.output, up.output[-3000:]
    assert [r for r in dokploy_server.requests()[before:] if r["kind"] == "write"] == []

    # A production job opens its committed file the same way (its own identity: it cannot open staging's).
    prod = jobs.new(
        {"VAULT_TOKEN": authority.login("production")},
        files={
            "Pulumi.production.yaml": (operator.root / "Pulumi.production.yaml").read_text(),
            "Pulumi.staging.yaml": staging_file,
        },
    )
    prod.pulumi("config", "set", "--stack", "production", "--secret", "financeReport:probe", "opened-by-ci")
    assert prod.pulumi("config", "get", "--stack", "production", "financeReport:probe").output.strip() == "opened-by-ci"
    refused = prod.pulumi("config", "set", "--stack", "staging", "--secret", "financeReport:probe", "x", check=False)
    assert refused.code != 0 and "permission denied" in refused.output.lower(), refused.output[-2000:]

    every_job = "\n".join(t for j in (operator, ci, prod) for t in j.transcript)
    assert_no_leak(every_job, [root, dokploy_server.api_key], "the jobs' output")
