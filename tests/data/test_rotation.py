"""Rotation (issue 19, acceptance 2): per credential kind, against a real OpenBao (and the real S3 server and
Pulumi engine where the credential lives there): the old credential refused, the new one working, nothing lost."""

from __future__ import annotations

import base64
import io
import os
import subprocess
from collections.abc import Sequence
from contextlib import redirect_stdout
from pathlib import Path

import hvac
import pytest
import yaml

from components.compose.backup import SCRIPT
from components.vault import authority as A
from ops import restore_drill, rotate
from ops.scratch_postgres import ScratchPostgres
from ops.vault_bootstrap import issue_agent_credentials
from tests.data.conftest import BACKUP_BUCKET, Destination
from tests.support.pulumi_cli import make_project, pulumi_available
from tests.vault.conftest import Authority

STAGING = restore_drill.model("staging")


def _vault_env(authority: Authority) -> dict[str, str]:
    return {**os.environ, "VAULT_ADDR": authority.address, "VAULT_TOKEN": authority.bao.root_token}


def test_agent_secret_ids(authority: Authority, tmp_path: Path) -> None:
    admin = authority.admin()
    admin.secrets.kv.v2.create_or_update_secret(
        path=STAGING.vault_path("postgres"), mount_point="secret", secret={"POSTGRES_PASSWORD": "p" * 32}
    )
    issue_agent_credentials(authority.admin_client(), "staging", tmp_path)
    files = {s: tmp_path / f"{STAGING.compose_app_name(s)}.secret-id" for s in STAGING.services}
    old = {s: f.read_text().strip() for s, f in files.items()}
    running = rotate.approle_login(authority.address, A.approle_role("staging", "postgres"), old["postgres"])

    out = io.StringIO()
    with redirect_stdout(out):
        assert rotate.main("agent-secret-ids", "staging", directory=str(tmp_path), environ=_vault_env(authority)) == 0
    assert all(o not in out.getvalue() for o in old.values())

    for svc, f in files.items():
        new = f.read_text().strip()
        assert new != old[svc] and oct(f.stat().st_mode & 0o777) == "0o600"
        role = A.approle_role("staging", svc)
        with pytest.raises(hvac.exceptions.InvalidRequest):
            rotate.approle_login(authority.address, role, old[svc])  # the old one: refused
        token = rotate.approle_login(authority.address, role, new)  # the new one: logs in
        assert token
    # The service's new login reads its secret; the agent's token from before still does (no downtime).
    fresh = rotate.approle_login(
        authority.address, A.approle_role("staging", "postgres"), files["postgres"].read_text().strip()
    )
    for token in (fresh, running):
        data = hvac.Client(url=authority.address, token=token).secrets.kv.v2.read_secret_version(
            path=STAGING.vault_path("postgres"), mount_point="secret", raise_on_deleted_version=True
        )["data"]["data"]
        assert data["POSTGRES_PASSWORD"] == "p" * 32


PROGRAM = """
import pulumi
pulumi.export("password", pulumi.Config("t").require_secret("dbPassword"))
"""


@pytest.mark.engine
@pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi")
def test_transit_key_versions(authority: Authority, tmp_path: Path) -> None:
    # A key of its own: other tests' stacks use the groups' keys in the same OpenBao.
    key = "finance-report-rotation-test"
    admin = authority.admin()
    admin.write_data(f"transit/keys/{key}", data={"type": "aes256-gcm96"})
    cli = make_project(tmp_path, PROGRAM)
    vault = {"VAULT_ADDR": authority.address, "VAULT_SERVER_URL": authority.address,
             "VAULT_TOKEN": authority.bao.root_token, "VAULT_SERVER_TOKEN": authority.bao.root_token}  # fmt: skip
    password = "rotated-transit-" + "x" * 24

    def run(*args: str, stdin: str | None = None) -> str:
        return cli.run(*args, env=vault, input=stdin, timeout=180).stdout

    run("stack", "init", "staging", "--secrets-provider", f"hashivault://{key}")
    run("config", "set", "--secret", "t:dbPassword", password, "--stack", "staging")
    run("up", "--yes", "--skip-preview", "--stack", "staging")
    stack_file = cli.workdir / "Pulumi.staging.yaml"
    v1 = base64.b64decode(yaml.safe_load(stack_file.read_text())["encryptedkey"]).decode()
    assert v1.startswith("vault:v1:")

    def pulumi(args: Sequence[str], stdin: str | None) -> str:
        return run(*args, stdin=stdin)

    latest = rotate.rotate_transit(admin, key, [rotate.StackRef("staging", stack_file, pulumi)])
    assert latest == 2
    v2 = base64.b64decode(yaml.safe_load(stack_file.read_text())["encryptedkey"]).decode()
    assert v2.startswith("vault:v2:")
    state_key = cli.export("staging")["deployment"]["secrets_providers"]["state"]["encryptedkey"]  # type: ignore[index]
    assert base64.b64decode(state_key).decode().startswith("vault:v2:")
    # The old version decrypts nothing any more ...
    with pytest.raises(hvac.exceptions.InvalidRequest, match="disallowed by policy \\(too old\\)"):
        admin.write_data(f"transit/decrypt/{key}", data={"ciphertext": v1})
    # ... and the stack's secrets are all there under the new one.
    assert run("stack", "output", "password", "--show-secrets", "--stack", "staging").strip() == password
    run("preview", "--expect-no-changes", "--stack", "staging")
    assert password not in stack_file.read_text() + cli.state_text()


def _pg_backup(pg: ScratchPostgres, values: dict[str, str], prefix: str) -> subprocess.CompletedProcess[str]:
    env = {**pg.client_env(), **values, "BACKUP_PREFIX": prefix}
    return subprocess.run(["sh", str(SCRIPT), "backup"], env=env, capture_output=True, text=True, check=False)


def test_backup_s3_key(authority: Authority, destination: Destination, postgres: ScratchPostgres) -> None:
    server = destination.server
    admin = authority.admin()
    path = STAGING.vault_path("postgres")
    # A key of its own for this test (the session's destination key stays for the others).
    first = server.create_user("backup-old")
    server._admin_call(f"/change-bucket-owner/?bucket={BACKUP_BUCKET}&owner={first.access}")
    old_values = {**destination.values(), "BACKUP_S3_ACCESS_KEY": first.access, "BACKUP_S3_SECRET_KEY": first.secret}
    admin.secrets.kv.v2.create_or_update_secret(
        path=path, mount_point="secret", secret={"POSTGRES_PASSWORD": "p" * 32, **old_values}
    )
    postgres.psql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (1), (2)")
    assert _pg_backup(postgres, old_values, "rotation/postgres").returncode == 0

    # A bad new pair is refused before Vault changes.
    with pytest.raises(rotate.RotationFailed, match="cannot list bucket"):
        rotate.main("s3-key", "staging", stdin="nobody\nnothing\n", environ=_vault_env(authority))
    assert (
        admin.secrets.kv.v2.read_secret_version(path=path, mount_point="secret", raise_on_deleted_version=True)["data"][
            "data"
        ]["BACKUP_S3_ACCESS_KEY"]
        == first.access
    )

    # The provider issues the new key (here: versitygw's admin makes it the bucket's owner) ...
    second = server.create_user("backup-new")
    server._admin_call(f"/change-bucket-owner/?bucket={BACKUP_BUCKET}&owner={second.access}")
    out = io.StringIO()
    with redirect_stdout(out):
        rotate.main("s3-key", "staging", stdin=f"{second.access}\n{second.secret}\n", environ=_vault_env(authority))
    assert f"delete the old key {first.access}" in out.getvalue() and second.secret not in out.getvalue()
    # ... then deletes the old one, as the command says.
    server._admin_call(f"/delete-user?access={first.access}")

    rendered = admin.secrets.kv.v2.read_secret_version(path=path, mount_point="secret", raise_on_deleted_version=True)[
        "data"
    ]["data"]
    now = {k: str(rendered[k]) for k in destination.values()}
    assert now["BACKUP_S3_ACCESS_KEY"] == second.access and rendered["POSTGRES_PASSWORD"] == "p" * 32
    assert _pg_backup(postgres, old_values, "rotation/postgres").returncode != 0  # old: refused
    assert _pg_backup(postgres, now, "rotation/postgres").returncode == 0  # new: the backup runs
    # Nothing lost: the dump made under the old key restores with the new one.
    postgres.psql("DROP TABLE kept")
    env = {**postgres.client_env(), **now, "BACKUP_PREFIX": "rotation/postgres"}
    listed = subprocess.run(["sh", str(SCRIPT), "list"], env=env, capture_output=True, text=True, check=True)
    oldest = listed.stdout.split()[0]
    subprocess.run(["sh", str(SCRIPT), "restore", oldest], env=env, capture_output=True, text=True, check=True)
    assert postgres.psql("SELECT count(*) FROM kept") == "2"
    # Leave the session's destination key usable for the other tests.
    server._admin_call(f"/change-bucket-owner/?bucket={BACKUP_BUCKET}&owner={destination.key.access}")
