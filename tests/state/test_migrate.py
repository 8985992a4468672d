"""`make migrate-state` (ops/state_migrate.py): a stack moves from the file backend to S3 and back, secrets
provider kept, and the next preview on each side shows no changes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from components.vault.authority import transit_key
from tests.state.runners import new_runner, run_ops, vault_env
from tests.state.test_s3_backend import TOKEN
from tests.support.pulumi_cli import REPO, pulumi_available
from tests.support.s3 import S3Server
from tests.vault.conftest import Authority

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def migrate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ops("state_migrate", "--cwd", str(cwd), *args, env=env)


def test_stack_moves_file_to_s3_and_back_without_changes(
    tmp_path: Path, s3_server: S3Server, authority: Authority
) -> None:
    r = new_runner(tmp_path, s3_server, "staging")
    file_url = f"file://{r.cli.state_dir}"
    s3_url = s3_server.backend_url("staging")
    r.cli.extra_env.update(
        PULUMI_CONFIG_PASSPHRASE="",
        **s3_server.keys["staging"].env(),
        **vault_env(authority.address, authority.identity("staging")),
    )
    provider = f"hashivault://{transit_key('staging')}"
    r.run("stack", "init", "moving", "--secrets-provider", provider, "--no-select")
    r.run("config", "set", "--stack", "moving", "--secret", "t:token", TOKEN)
    r.run("up", "--stack", "moving", "--yes", "--skip-preview")
    stack_file = (r.workdir / "Pulumi.moving.yaml").read_text()
    before = r.cli.outputs("moving")

    env = r.cli.env()
    there = migrate(env, r.workdir, "--stack", "moving", "--from", file_url, "--to", s3_url)
    assert there.returncode == 0, there.stderr
    assert "moved moving" in there.stdout and "hashivault://" in there.stdout
    printed = there.stdout + there.stderr
    assert TOKEN not in printed and s3_server.keys["staging"].secret not in printed

    on_s3 = {**env, "PULUMI_BACKEND_URL": s3_url}
    preview = r.cli.run("preview", "--stack", "moving", "--expect-no-changes", env=on_s3)
    assert preview.returncode == 0
    state = json.loads(
        s3_server.objects("staging", ".pulumi/stacks/state-test/moving.json")[".pulumi/stacks/state-test/moving.json"]
    )
    assert state["checkpoint"]["latest"]["secrets_providers"]["state"]["url"] == provider
    assert not (r.cli.state_dir / ".pulumi/stacks/state-test/moving.json").exists(), "the file backend still has it"
    assert yaml.safe_load((r.workdir / "Pulumi.moving.yaml").read_text()) == yaml.safe_load(stack_file)

    # moving it again from where it no longer is fails in one line, changing nothing
    again = migrate(env, r.workdir, "--stack", "moving", "--from", file_url, "--to", s3_url)
    assert (
        again.returncode == 1
        and "no stack named 'moving'" in again.stderr
        and len(again.stderr.strip().splitlines()) == 1
    )

    back = migrate(env, r.workdir, "--stack", "moving", "--from", s3_url, "--to", file_url)
    assert back.returncode == 0, back.stderr
    r.run("preview", "--stack", "moving", "--expect-no-changes")
    assert r.cli.outputs("moving") == before
    assert ".pulumi/stacks/state-test/moving.json" not in s3_server.objects("staging")


def test_bad_invocations_fail_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PULUMI_BACKEND_URL"}
    for args, needle in (
        (["--stack", "x", "--to", "file:///tmp/x"], "no source backend"),
        (["--stack", "x", "--from", "file:///tmp/a", "--to", "file:///tmp/a"], "same backend"),
    ):
        proc = migrate(env, tmp_path, *args)
        assert proc.returncode == 1 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, (
            proc.stderr
        )
    make = subprocess.run(
        ["make", "-n", "migrate-state", "STACK=local", "TO=s3://b?region=us-east-1"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert '-m ops.state_migrate --stack "local" --to "s3://b?region=us-east-1"' in make.stdout
