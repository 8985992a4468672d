"""Acceptance 4: the PR-environment workflow's sequence, with the real CLI, against the local Dokploy server.

What pr-environment.yml does, step for step: the stack name and image tag from ops (the model), a Vault
login as the `pr-7` GitHub environment (a JWT the bootstrap's JWT role accepts), `ops open-stack`
(the stack on the PR stacks' transit key), `config set`, `pulumi up`, the smoke test (against a stub app standing in
for the host), the PR comment (rendered, not posted), `pulumi destroy`, `pulumi stack rm`. The Dokploy
key is a member's whose access is limited to `finance_report-preview`; the same key is then refused on
the staging project.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import hvac
import jwt as pyjwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components.dokploy.markers import marker_for, tag_description
from components.environment import PREVIEW_PROJECT, PROJECT
from components.vault.authority import JWT_MOUNT, REPOSITORY, transit_key
from components.vault.client import VaultClient
from components.vault.connection import DEFAULT_JWT_AUDIENCE, VaultConnection
from dokploy_local.testing import LocalDokploy
from ops import stacks
from ops.vault_bootstrap import BootstrapOptions, JwtConfig, admit_pr, bootstrap
from tests.ops.stub_site import Site
from tests.support.leaks import Secret
from tests.support.openbao import OpenBao
from tests.support.pulumi_cli import REPO, copy_repo_program, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

SHA = "7c0ffee1234567890abcdef"
PULUMI_PROJECT = "finance-report"  # Pulumi.yaml `name`: part of every marker
MEMBER_KEY = "preview-member-key"
ISSUER = "https://token.actions.githubusercontent.com"
REPOSITORY_ID = "812345678"


def github_oidc_login(bao: OpenBao, environment: str) -> str:
    """What hashicorp/vault-action does in the job: a GitHub OIDC token for `environment`, a JWT login."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    admin = VaultClient.connect(VaultConnection(address=bao.address), {"VAULT_TOKEN": bao.root_token})
    jwt_config = JwtConfig(pubkeys=(public,), discovery_url=None, bound_issuer=ISSUER)
    bootstrap(admin, BootstrapOptions(groups=("preview",), repository_id=REPOSITORY_ID, jwt=jwt_config))  # admin, once
    pr_number = int(environment.removeprefix("pr-"))
    admit_pr(admin, pr_number)  # the pull_request_target admission job, before the PR's first deploy
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": DEFAULT_JWT_AUDIENCE,
        "repository": REPOSITORY,
        "repository_id": REPOSITORY_ID,
        "event_name": "pull_request",
        "ref": f"refs/pull/{pr_number}/merge",
        "environment": environment,
        "sub": f"repo:{REPOSITORY}:environment:{environment}",
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    token = pyjwt.encode(claims, key, algorithm="RS256")
    resp = hvac.Client(url=bao.address).auth.jwt.jwt_login(role="finance_report-preview", jwt=token, path=JWT_MOUNT)
    return Secret(resp["auth"]["client_token"])  # shows a digest, never the token, if a test fails


def owner_projects(dokploy: LocalDokploy) -> dict[str, str]:
    """The shared projects as their owner stack leaves them (marked by `staging`), and staging's environment."""
    with httpx.Client(base_url=dokploy.url + "/api", headers={"x-api-key": dokploy.api_key}) as owner:
        ids = {}
        for name in (PROJECT, PREVIEW_PROJECT):
            description = tag_description("Finance Report", marker_for(PULUMI_PROJECT, "staging", "Project", name))
            r = owner.post("/project.create", json={"name": name, "description": description})
            r.raise_for_status()
            ids[name] = r.json()["project"]["projectId"]
        r = owner.post("/environment.create", json={"name": "staging", "projectId": ids[PROJECT]})
        r.raise_for_status()
        ids["staging-environment"] = r.json()["environmentId"]
    return ids


def ops(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args], cwd=cwd, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}
    )


def member(dokploy: LocalDokploy) -> httpx.Client:
    return httpx.Client(base_url=dokploy.url + "/api", headers={"x-api-key": MEMBER_KEY}, timeout=10)


def preview_environments(dokploy: LocalDokploy, project_id: str) -> list[dict[str, Any]]:
    with member(dokploy) as m:
        r = m.get("/environment.byProjectId", params={"projectId": project_id})
        r.raise_for_status()
        return list(r.json())


def test_pr_environment_sequence_with_a_member_key_limited_to_the_preview_project(
    tmp_path: Path, dokploy_server: LocalDokploy, running_openbao: OpenBao, site: Site
) -> None:
    ids = owner_projects(dokploy_server)
    dokploy_server.add_member_key(MEMBER_KEY, [ids[PREVIEW_PROJECT]])
    vault_token = github_oidc_login(running_openbao, "pr-7")

    # -- deploy job: stack name and tag from the model, then the stack on the PR stacks' transit key
    stack = stacks.pr_stack(7)
    tag = stacks.image_tag(stack, SHA)
    cli = copy_repo_program(tmp_path)
    cli.extra_env.update(VAULT_ADDR=running_openbao.address, VAULT_TOKEN=vault_token, DOKPLOY_API_KEY=MEMBER_KEY)
    provider = f"hashivault://{transit_key('preview')}"
    since = max((r["seq"] for r in dokploy_server.requests()), default=0)
    opened = subprocess.run(
        [sys.executable, "-m", "ops", "open-stack", "--stack", stack], cwd=cli.workdir, env=cli.env(),
        capture_output=True, text=True,
    )  # fmt: skip
    assert opened.stdout.strip() == f"created: stack {stack} on {provider}", opened.stdout + opened.stderr
    for key, value in {
        "financeReport:imageTag": tag,
        "financeReport:manageGithub": "false",
        "dokploy:url": dokploy_server.url,
        "vault:address": running_openbao.address,
    }.items():
        cli.run("config", "set", "--stack", stack, "--", key, value)
    cli.run("up", "--stack", stack, "--yes", "--skip-preview")
    stack_file = yaml.safe_load((cli.workdir / f"Pulumi.{stack}.yaml").read_text())
    assert stack_file["secretsprovider"] == provider
    assert base64.b64decode(stack_file["encryptedkey"]).startswith(b"vault:v1:")  # the data key, wrapped by transit
    outputs = cli.outputs(stack)
    assert outputs["url"] == "https://report-pr-7.zitian.party"

    envs = preview_environments(dokploy_server, ids[PREVIEW_PROJECT])
    mine = [e for e in envs if e["name"] == stack]
    assert len(mine) == 1 and [c["name"] for c in mine[0]["compose"]] == [stack]

    # -- smoke test (a stub app stands in for https://report-pr-7...) and the PR comment's text
    result = tmp_path / "smoke.json"
    smoke = ops(
        "smoke", "--stack", stack, "--image-tag", tag, "--base-url", site.url, "--deadline", "0",
        "--result-file", str(result), cwd=REPO,
    )  # fmt: skip
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "verdict=healthy" in smoke.stdout and site.hits == ["/", "/dashboard", "/api/health"]
    comment = ops("comment", "pr-env", "--pr", "7", "--sha", SHA, "--smoke", str(result), "--dry-run", cwd=REPO)
    assert comment.returncode == 0, comment.stderr
    assert "https://report-pr-7.zitian.party" in comment.stdout and "✅ healthy" in comment.stdout

    # -- destroy job: destroy, stack rm; nothing of pr-7 is left on the server, in Vault or in the backend
    cli.run("destroy", "--stack", stack, "--yes", "--skip-preview")
    cli.run("stack", "rm", stack, "--yes")
    calls = dokploy_server.requests(since=since)
    assert {r["principal"] for r in calls} == {"member"}  # the whole sequence ran on the member key
    assert {r["procedure"] for r in calls if r["kind"] == "write"} >= {"environment.create", "compose.delete"}
    left = preview_environments(dokploy_server, ids[PREVIEW_PROJECT])
    assert [e["name"] for e in left if not e.get("isDefault")] == []  # the project's default env is Dokploy's
    assert dokploy_server.count_objects()["composes"] == 0
    assert stack not in {s["name"] for s in json.loads(cli.run("stack", "ls", "--json").stdout)}
    with pytest.raises(hvac.exceptions.InvalidPath):
        running_openbao.client().secrets.kv.v2.read_secret_metadata(f"finance_report/{stack}/{stack}")

    # -- the same member key is refused on the staging project
    with member(dokploy_server) as m:
        assert [p["name"] for p in m.get("/project.all").json()] == [PREVIEW_PROJECT]
        assert m.get("/project.one", params={"projectId": ids[PROJECT]}).status_code in (401, 403)
        assert m.get("/environment.one", params={"environmentId": ids["staging-environment"]}).status_code in (
            401,
            403,
        )
        created = m.post("/environment.create", json={"name": "pr-7", "projectId": ids[PROJECT]})
        assert created.status_code in (401, 403), created.text
        compose = m.post("/compose.create", json={"name": "x", "environmentId": ids["staging-environment"]})
        assert compose.status_code in (401, 403), compose.text
    owner_view = httpx.get(
        f"{dokploy_server.url}/api/environment.byProjectId",
        params={"projectId": ids[PROJECT]},
        headers={"x-api-key": dokploy_server.api_key},
    ).json()
    assert [e["name"] for e in owner_view if not e.get("isDefault")] == ["staging"]  # nothing got in
