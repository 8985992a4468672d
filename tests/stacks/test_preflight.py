"""Preflight (issue 7, acceptance 5): a wrong Dokploy key, an unreachable Vault or a missing Vault capability
makes `pulumi up --skip-preview` fail with one line, and the local Dokploy server saw no mutating request.

Real CLI, the local Dokploy server, the session's OpenBao. The last run, with everything right, succeeds:
so each failure above is the fault injected, not the setup.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import hvac
import pytest

from dokploy_local.testing import LocalDokploy
from tests.stacks.clone import LOCAL_PASSPHRASE, free_port
from tests.support.openbao import OpenBao
from tests.support.pulumi_cli import REPO, PulumiCLI, copy_repo_program, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def _stack_token(openbao: OpenBao, tmp: Path) -> Path:
    token_file = tmp / "stack-local.token"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ops.vault_bootstrap",
            "--env",
            "local",
            "--no-jwt",
            "--stack-token-file",
            str(token_file),
        ],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **openbao.env()},
        check=True,
        capture_output=True,
    )
    return token_file


def _kv_version(openbao: OpenBao) -> int | None:
    try:
        meta = openbao.client().secrets.kv.v2.read_secret_metadata(
            path="finance_report/local/app", mount_point="secret"
        )
    except hvac.exceptions.InvalidPath:
        return None
    return int(meta["data"]["current_version"])


def _fails_with_one_line(cli: PulumiCLI, env: dict[str, str], pattern: str) -> str:
    proc = cli.up("local", env=env, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    # Pulumi repeats a program's error in its progress line and in the diagnostics; compare the messages.
    ours = [line[line.find("error: ") :].strip() for line in out.splitlines() if re.search(pattern, line)]
    assert ours, out[-3000:]
    assert len(set(ours)) == 1, ours
    return ours[0]


def test_preflight_fails_before_any_change(
    tmp_path: Path, dokploy_server: LocalDokploy, running_openbao: OpenBao
) -> None:
    cli = copy_repo_program(tmp_path)
    cli.extra_env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
    cli.run("stack", "init", "local")
    cli.run("config", "set", "--stack", "local", "dokploy:url", dokploy_server.url)
    cli.run("config", "set", "--stack", "local", "vault:address", running_openbao.address)
    token_file = _stack_token(running_openbao, tmp_path)
    kv_before = _kv_version(running_openbao)
    good = {
        "DOKPLOY_API_KEY": dokploy_server.api_key,
        "VAULT_TOKEN_FILE": str(token_file),
    }

    line = _fails_with_one_line(cli, {**good, "DOKPLOY_API_KEY": "not-the-key"}, r"Dokploy.*(401|key)")
    assert "not-the-key" not in line

    cli.run("config", "set", "--stack", "local", "vault:address", f"http://127.0.0.1:{free_port()}")
    _fails_with_one_line(cli, good, r"Vault at http://127\.0\.0\.1:\d+.*unreachable")
    cli.run("config", "set", "--stack", "local", "vault:address", running_openbao.address)

    # A token that logs in but holds only the default policy: it may not write the stack's KV paths.
    weak = running_openbao.client().auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    weak_env = {"DOKPLOY_API_KEY": dokploy_server.api_key, "VAULT_TOKEN": weak}
    _fails_with_one_line(cli, weak_env, r"Vault at .*lacks .* on secret/")

    writes = [r for r in dokploy_server.requests() if r.get("kind") == "write"]
    assert writes == [], [(w["procedure"], w["status"]) for w in writes]
    assert dokploy_server.count_objects()["projects"] == 0
    assert _kv_version(running_openbao) == kv_before  # nothing written to Vault either

    # Control: with the right key, address and identity the same command goes through.
    ok = cli.up("local", env=good, check=False)
    assert ok.returncode == 0, (ok.stdout + ok.stderr)[-3000:]
    assert dokploy_server.count_objects()["composes"] == 3
    cli.run("destroy", "--stack", "local", "--yes", "--skip-preview", env=good)
