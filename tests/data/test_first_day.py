"""docs/first-day.md, followed on the local servers (issue 19, acceptance 3): the project's Dokploy imitation,
a real OpenBao and a file state backend stand in for the team's Dokploy, Vault and state bucket.

Every `sh first-day` block of the runbook runs, in order, in one bash (the script on bash's stdin), after
the `sh first-day-values` block is replaced by local values. What differs from the team's day, and why:
- `sh github` blocks are skipped: GitHub cannot be reached from here. `MANAGE_GITHUB=false` instead, so the
  staging stack plans no GitHub objects (its GitHub side is tested under mocks, tests/github).
- `JWT_FLAGS=--no-jwt`: GitHub's OIDC discovery cannot be fetched; the JWT roles are tested in tests/vault.
- `vault` is OpenBao's CLI (`bao`, API-compatible), first on PATH.
- the deploy is simulated by the imitation (no container runs), so "staging up" is Dokploy's word: every
  compose of staging deployed (`done`), as the runbook's own check reads it.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dokploy_local.testing import LocalDokploy
from tests.support.dokploy import dokploy_server  # noqa: F401  (fixture)
from tests.support.openbao import OpenBao, openbao_in
from tests.support.pulumi_cli import VENV, copy_repo_program, pulumi_available, pulumi_env

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "first-day.md"
BLOCK = re.compile(r"^```(sh[^\n]*)\n(.*?)^```", re.S | re.M)

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def blocks() -> list[tuple[str, str]]:
    return [
        (info.split()[-1] if len(info.split()) > 1 else "", body) for info, body in BLOCK.findall(RUNBOOK.read_text())
    ]


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[OpenBao]:
    yield from openbao_in(tmp_path / "openbao")


def test_the_runbook_has_every_step_tagged() -> None:
    tags = [t for t, _ in blocks()]
    assert tags.count("first-day-values") == 1 and tags.index("first-day-values") < tags.index("first-day")
    assert tags.count("first-day") >= 10 and "github" in tags
    # Nothing secret as an argument: Dokploy's key goes to curl on stdin, the rest through the environment.
    run = "\n".join(b for t, b in blocks() if t == "first-day")
    assert "x-api-key: $DOKPLOY_API_KEY" not in run.replace("printf 'x-api-key: %s\\n' \"$DOKPLOY_API_KEY\"", "")


def test_first_day_on_the_local_servers_ends_with_staging_up(
    tmp_path: Path,
    dokploy_server: LocalDokploy,  # noqa: F811
    vault: OpenBao,
) -> None:
    cli = copy_repo_program(tmp_path)  # a clone of this repository (its stack files change)
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "vault").symlink_to(VENV / "bin" / "bao")
    home = tmp_path / "home"
    home.mkdir()
    values = {
        "DOKPLOY_URL": dokploy_server.url,
        "DOKPLOY_API_KEY": dokploy_server.api_key,
        "VAULT_ADDR": vault.address,
        "VAULT_TOKEN": vault.root_token,
        "PULUMI_BACKEND_URL": f"file://{cli.state_dir}",
        "BASE_DOMAIN": "example.test",
        "GITHUB_REPOSITORY": "acme/finance_report",
        "REVIEWERS": "octo-dev",
        "RELEASE_APP_ID": "42",
        "AGENT_DIR": str(tmp_path / "agent"),
        "JWT_FLAGS": "--no-jwt",
        "MANAGE_GITHUB": "false",
        "S3_ACCESS_KEY": "platform-minio-user",
        "S3_SECRET_KEY": secrets.token_urlsafe(24),
        "OPENROUTER_API_KEY": secrets.token_urlsafe(16),
        "BACKUP_S3_ENDPOINT": "http://127.0.0.1:9",
        "BACKUP_S3_BUCKET": "finance-report-backups",
        "BACKUP_S3_ACCESS_KEY": "backup-user",
        "BACKUP_S3_SECRET_KEY": secrets.token_urlsafe(24),
    }
    script = ["set -euo pipefail"]
    for n, (tag, body) in enumerate(blocks()):
        if tag == "first-day-values":
            script += [f"export {k}={v!r}" for k, v in values.items()]
        elif tag == "first-day":
            script += [f"echo '== block {n}'", body]
        elif tag == "github":
            script.append(f"echo '== block {n}: a GitHub step, skipped (GitHub is out of reach here)'")
    env = pulumi_env(home=tmp_path / "pulumi-home", state_dir=cli.state_dir, passphrase="")
    env = {k: v for k, v in env.items() if not k.startswith(("VAULT_", "DOKPLOY_", "AWS_", "PG"))}
    env.update(PATH=f"{shims}:{env['PATH']}", HOME=str(home))
    env.pop("PULUMI_CONFIG_PASSPHRASE", None)  # staging's state is on transit, not a passphrase
    done = subprocess.run(
        ["bash", "-s"], input="\n".join(script), cwd=cli.workdir, env=env, capture_output=True, text=True, timeout=600
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    for ok in ("dokploy: ok", "vault: ok", "policy: ok", "backup destination: ok", "secret_ids: ok", "stack file: ok"):
        assert ok in out, out[-3000:]
    assert "staging composes: {'app': 'done', 'postgres': 'done', 'redis': 'done'}" in out
    assert "https://report-staging.example.test" in out
    for secret in (dokploy_server.api_key, vault.root_token, values["S3_SECRET_KEY"], values["BACKUP_S3_SECRET_KEY"]):
        assert secret not in out

    # Staging is up as Dokploy and Vault see it, not only as the runbook's checks say.
    projects = httpx.get(f"{dokploy_server.url}/api/project.all", headers={"x-api-key": dokploy_server.api_key}).json()
    (project,) = [p for p in projects if p["name"] == "finance_report"]
    (staging,) = [e for e in project["environments"] if e["name"] == "staging"]
    assert sorted(c["name"] for c in staging["compose"]) == ["app", "postgres", "redis"]
    backup = vault.client().secrets.kv.v2.read_secret_version(
        path="finance_report/staging/postgres", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert backup["BACKUP_S3_BUCKET"] == "finance-report-backups" and len(backup["POSTGRES_PASSWORD"]) >= 24
