"""Vault transit as a stack's secrets provider, through the real pulumi CLI (issue 5, acceptance 4).

`pulumi stack init --secrets-provider hashivault://finance-report-staging` makes the CLI (gocloud's
hashivault keeper: VAULT_SERVER_URL/VAULT_ADDR and VAULT_SERVER_TOKEN/VAULT_TOKEN) wrap the stack's data
key with transit. The stack file's `encryptedkey` is that ciphertext, base64-encoded by Pulumi, so it
decodes to `vault:v1:...`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from components.vault.authority import transit_key
from tests.support.leaks import Secret, assert_no_leak, digest
from tests.support.pulumi_cli import PulumiCLI, make_project, pulumi_available
from tests.vault.conftest import Authority

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

PROGRAM = """
import pulumi
cfg = pulumi.Config("t")
pulumi.export("length", cfg.require_secret("dbPassword").apply(len))
pulumi.export("password", cfg.require_secret("dbPassword"))
"""
KEY = transit_key("staging")
PASSWORD = Secret("transit-wrapped-config-value-0123456789")


@dataclass
class Stack:
    cli: PulumiCLI
    authority: Authority

    def as_(self, token: str | None, address: str | None = None) -> dict[str, str]:
        # Both spellings the keeper reads; an empty value counts as unset.
        return {
            "VAULT_SERVER_URL": address or self.authority.address,
            "VAULT_ADDR": address or self.authority.address,
            "VAULT_SERVER_TOKEN": token or "",
            "VAULT_TOKEN": token or "",
            "PULUMI_CONFIG_PASSPHRASE": "",  # prove the passphrase plays no part
        }

    def run(self, *args: str, token: str | None, check: bool = True, address: str | None = None) -> str:
        proc = self.cli.run(*args, "--stack", "staging", check=check, env=self.as_(token, address), timeout=120)
        return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def stack(authority: Authority, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(make_project(tmp_path_factory.mktemp("transit"), PROGRAM), authority)
    staging = authority.identity("staging")
    s.run("stack", "init", "--secrets-provider", f"hashivault://{KEY}", token=staging)
    s.run("config", "set", "--secret", "t:dbPassword", PASSWORD, token=staging)
    yield s


def test_stack_file_holds_transit_ciphertext_not_the_value(stack: Stack) -> None:
    text = (stack.cli.workdir / "Pulumi.staging.yaml").read_text()
    doc = yaml.safe_load(text)
    assert doc["secretsprovider"] == f"hashivault://{KEY}"
    wrapped = base64.b64decode(doc["encryptedkey"]).decode()
    assert wrapped.startswith("vault:v1:")
    assert str(doc["config"]["t:dbPassword"]["secure"]).startswith("v1:")
    assert_no_leak(text, [PASSWORD], "the stack file")
    # it is really the staging transit key that wraps it
    plain = stack.authority.admin().write_data(f"transit/decrypt/{KEY}", data={"ciphertext": wrapped})
    assert len(base64.b64decode(plain["data"]["plaintext"])) == 32


def test_secrets_decrypt_while_vault_is_up_and_the_token_may_use_the_key(stack: Stack) -> None:
    staging = stack.authority.identity("staging")
    out = stack.run("up", "--yes", "--skip-preview", token=staging)
    got = stack.run("stack", "output", "password", "--show-secrets", token=staging).strip()
    assert digest(got) == digest(PASSWORD)
    stack.run("preview", "--expect-no-changes", token=staging)
    assert_no_leak(out + stack.cli.state_text(), [PASSWORD], "up output and state")


@pytest.mark.parametrize("who", ["production", "pr-7", None])
def test_a_token_that_may_not_use_the_key_fails_clearly(stack: Stack, who: str | None) -> None:
    token = stack.authority.identity(who) if who else None
    out = stack.run("preview", token=token, check=False)
    assert "permission denied" in out.lower() or "missing client token" in out.lower(), out[-2000:]
    assert f"{stack.authority.address}/v1/transit/decrypt/{KEY}" in out, out[-2000:]
    assert_no_leak(out, [PASSWORD], "a failed preview")


def test_a_pull_request_job_cannot_open_staging_s_stack(stack: Stack) -> None:
    """Hostile (finding 1): on main a `staging-preview` identity let PR code decrypt staging's stack. Now
    the only identity a `pull_request` job gets is its PR's; it can neither decrypt nor encrypt with
    staging's key, whatever environment its workflow names."""
    authority = stack.authority
    token = authority.login("pr-7")  # the other roles refuse a pull_request token (tests/vault/test_jwt.py)
    out = stack.run("preview", token=token, check=False)
    assert "permission denied" in out.lower() and f"transit/decrypt/{KEY}" in out, out[-2000:]
    copy = stack.cli.run(
        "stack", "init", "staging-copy", "--secrets-provider", f"hashivault://{KEY}", check=False,
        env=stack.as_(token),
    )  # fmt: skip
    assert copy.returncode != 0 and "permission denied" in (copy.stdout + copy.stderr).lower()
    assert_no_leak(out, [PASSWORD], "a refused preview")


def test_vault_down_fails_with_the_address(stack: Stack, authority: Authority) -> None:
    staging = authority.identity("staging")
    authority.bao.stop()
    try:
        out = stack.run("config", "get", "t:dbPassword", token=staging, check=False)
    finally:
        authority.bao.start()
    assert authority.address.split("//")[1] in out and "connection refused" in out.lower(), out[-2000:]
    assert_no_leak(out, [PASSWORD], "a failed decrypt")
    assert digest(stack.run("config", "get", "t:dbPassword", token=staging).strip()) == digest(PASSWORD)
