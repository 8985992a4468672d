"""PR stacks survive fresh checkouts (issue 11, build 2): every job of pr-environment.yml on its own copy.

The deploy job's `pulumi up` step as the workflow runs it (`ops open-stack`, `config set` of imageTag and
manageGithub, `pulumi up`) and the destroy job's (`ops open-stack --existing-only`, `destroy`, `stack rm`),
each in a fresh copy of this repository with its own PULUMI_HOME and no passphrase, on one file backend the
jobs share. Real CLI, the PR stacks' transit key in a real OpenBao, the local Dokploy server.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from components.dokploy.markers import marker_for, tag_description
from components.environment import PREVIEW_PROJECT
from components.vault.authority import PREVIEW_GROUP, transit_key
from components.vault.client import VaultClient
from components.vault.connection import VaultConnection
from dokploy_local.testing import LocalDokploy
from ops import stacks
from ops.vault_bootstrap import BootstrapOptions, bootstrap, ensure_stack_token
from tests.stacks.checkouts import Job, Jobs, Run
from tests.support.dokploy import call_api
from tests.support.leaks import Secret, assert_no_leak
from tests.support.openbao import OpenBao
from tests.support.pulumi_cli import pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

PROVIDER = f"hashivault://{transit_key(PREVIEW_GROUP)}"
SHAS = ("1111111aaaa", "2222222bbbb", "3333333cccc")


@pytest.fixture
def jobs(tmp_path: Path, dokploy_server: LocalDokploy, running_openbao: OpenBao) -> Jobs:
    """The admin's part (Vault bootstrap, the owner's preview project) and what every PR job is given."""
    admin = VaultClient.connect(
        VaultConnection(address=running_openbao.address), {"VAULT_TOKEN": running_openbao.root_token}
    )
    bootstrap(admin, BootstrapOptions(groups=(PREVIEW_GROUP,), jwt=None))
    token_file = tmp_path / "pr-stacks.token"
    ensure_stack_token(admin, PREVIEW_GROUP, token_file)  # the identity the PR jobs' Vault login gives
    description = tag_description("previews", marker_for("finance-report", "staging", "Project", PREVIEW_PROJECT))
    call_api(dokploy_server, "project.create", {"name": PREVIEW_PROJECT, "description": description})
    env = {
        "DOKPLOY_URL": dokploy_server.url,
        "DOKPLOY_API_KEY": dokploy_server.api_key,
        "VAULT_ADDR": running_openbao.address,
        "VAULT_TOKEN": Secret(token_file.read_text().strip()),
    }
    return Jobs(tmp_path, env)


def deploy(job: Job, stack: str, sha: str, *, check: bool = True) -> tuple[Run, Run]:
    """pr-environment.yml's `pulumi up` step: (open-stack, up)."""
    opened = job.ops("open-stack", "--stack", stack)
    tag = stacks.image_tag(stack, sha)
    job.pulumi(
        "config", "set-all", "--stack", stack,
        "--plaintext", f"financeReport:imageTag={tag}", "--plaintext", "financeReport:manageGithub=false",
    )  # fmt: skip
    return opened, job.pulumi("up", "--stack", stack, "--yes", "--skip-preview", check=check)


def composes(server: LocalDokploy) -> int:
    return int(server.count_objects()["composes"])


def wrapped_key(job: Job, stack: str) -> str:
    key = str(job.stack_file(stack)["encryptedkey"])
    assert base64.b64decode(key).startswith(b"vault:v1:")  # the data key, wrapped by the transit key
    return key


def test_a_failed_first_up_a_second_push_a_close_and_a_reopen_each_on_a_fresh_checkout(
    jobs: Jobs, dokploy_server: LocalDokploy
) -> None:
    stack = "pr-7"

    # Push 1: the Dokploy key is not set yet; `up` fails in the program's preflight, nothing is created.
    first = jobs.new({"DOKPLOY_API_KEY": ""})
    opened, up = deploy(first, stack, SHAS[0], check=False)
    assert opened.output.strip() == f"created: stack {stack} on {PROVIDER}"
    assert up.code != 0 and "DOKPLOY_API_KEY" in up.output, up.output[-3000:]
    assert composes(dokploy_server) == 0
    key = wrapped_key(first, stack)

    # Push 2, a new checkout: the stack file comes back from the state, and `up` recovers.
    second = jobs.new()
    opened, up = deploy(second, stack, SHAS[1])
    assert opened.output.strip() == f"restored: stack {stack} on {PROVIDER}"
    assert second.stack_file(stack)["secretsprovider"] == PROVIDER and wrapped_key(second, stack) == key
    outputs = second.pulumi("stack", "output", "--stack", stack, "--json").output
    assert stacks.image_tag(stack, SHAS[1]) in outputs and composes(dokploy_server) == 1

    # What the workflow did before, on the next push: `stack select --create --secrets-provider` ignores
    # the provider of an existing stack, `config set` writes a file without it, `up` asks for a passphrase.
    old = jobs.new()
    old.pulumi("stack", "select", "--create", stack, "--secrets-provider", PROVIDER)
    old.pulumi("config", "set", "--stack", stack, "financeReport:imageTag", stacks.image_tag(stack, SHAS[2]))
    failed = old.pulumi("up", "--stack", stack, "--yes", "--skip-preview", check=False)
    assert failed.code != 0 and "passphrase must be set" in failed.output.lower(), failed.output[-3000:]
    assert "secretsprovider" not in old.stack_file(stack)

    # Close: the destroy job's checkout (the base branch) restores the file, decrypts the state's secrets
    # to destroy, removes the stack; after that there is nothing to open and nothing is written.
    close = jobs.new()
    assert close.ops("open-stack", "--stack", stack, "--existing-only").output.startswith("restored:")
    close.pulumi("destroy", "--stack", stack, "--yes", "--skip-preview")
    close.pulumi("stack", "rm", stack, "--yes")
    assert composes(dokploy_server) == 0
    assert close.ops("open-stack", "--stack", stack, "--existing-only").output.strip() == f"missing: stack {stack}"
    assert not (close.root / f"Pulumi.{stack}.yaml").exists()

    # Reopen: a new stack on the PR stacks' key, with a new data key.
    reopen = jobs.new()
    opened, up = deploy(reopen, stack, SHAS[2])
    assert opened.output.strip() == f"created: stack {stack} on {PROVIDER}"
    assert wrapped_key(reopen, stack) != key and composes(dokploy_server) == 1

    every_job = "\n".join(t for j in (first, second, old, close, reopen) for t in j.transcript)
    assert_no_leak(every_job, [jobs.env["VAULT_TOKEN"], dokploy_server.api_key], "the jobs' output")


def test_a_job_cancelled_before_its_first_up_leaves_a_stack_the_next_push_opens(jobs: Jobs) -> None:
    """A new push cancels the running deploy: the stack exists, its state has no update to refresh from."""
    stack = "pr-8"
    first = jobs.new()
    assert first.ops("open-stack", "--stack", stack).output.startswith("created:")
    # (cancelled here)
    second = jobs.new()
    assert second.history(stack) == []  # `pulumi config refresh` would have nothing to restore from
    assert second.ops("open-stack", "--stack", stack).output.strip() == f"restored: stack {stack} on {PROVIDER}"
    assert wrapped_key(second, stack) == wrapped_key(first, stack)
    # The restored file encrypts and decrypts with the transit key, with no passphrase anywhere.
    second.pulumi("config", "set", "--stack", stack, "--secret", "financeReport:probe", "opened-by-job-2")
    assert second.pulumi("config", "get", "--stack", stack, "financeReport:probe").output.strip() == "opened-by-job-2"
    # Opening again in the same checkout changes nothing.
    assert second.ops("open-stack", "--stack", stack).output.strip() == f"unchanged: stack {stack} on {PROVIDER}"
    assert wrapped_key(second, stack) == wrapped_key(first, stack)
