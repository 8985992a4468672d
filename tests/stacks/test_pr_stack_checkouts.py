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
from dokploy_local.testing import LocalDokploy
from ops import stacks
from tests.stacks.checkouts import Job, Jobs, Run
from tests.support.dokploy import call_api
from tests.support.leaks import assert_no_leak
from tests.support.pulumi_cli import pulumi_available
from tests.vault.conftest import Authority

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

PROVIDER = f"hashivault://{transit_key(PREVIEW_GROUP)}"
STACK = "pr-9"  # one of the PRs the authority fixture admits
SHAS = ("1111111aaaa", "2222222bbbb", "3333333cccc")


@pytest.fixture
def jobs(tmp_path: Path, dokploy_server: LocalDokploy, authority: Authority) -> Jobs:
    """What every PR job is given: the Vault login of the PR's `pull_request` job, the Dokploy key, and the
    owner's preview project (the admin's part, with the Vault bootstrap and the PR's admission: `authority`)."""
    description = tag_description("previews", marker_for("finance-report", "staging", "Project", PREVIEW_PROJECT))
    call_api(dokploy_server, "project.create", {"name": PREVIEW_PROJECT, "description": description})
    env = {
        "DOKPLOY_URL": dokploy_server.url,
        "DOKPLOY_API_KEY": dokploy_server.api_key,
        "VAULT_ADDR": authority.address,
        "VAULT_TOKEN": authority.login(STACK),  # a fresh login: the reaper's tests may revoke cached ones
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


def test_a_cancelled_and_a_failed_push_a_recovery_a_close_and_a_reopen_each_on_a_fresh_checkout(
    jobs: Jobs, dokploy_server: LocalDokploy
) -> None:
    stack = STACK

    # Push 1 is superseded by push 2 (the workflow cancels the running deploy) right after opening the stack:
    # it exists, with no update that `pulumi config refresh` could restore from.
    cancelled = jobs.new()
    assert cancelled.ops("open-stack", "--stack", stack).output.strip() == f"created: stack {stack} on {PROVIDER}"
    key = wrapped_key(cancelled, stack)

    # Push 2: the Dokploy key is not set yet; `up` fails in the program's preflight, nothing is created.
    failing = jobs.new({"DOKPLOY_API_KEY": ""})
    assert failing.history(stack) == []
    opened, up = deploy(failing, stack, SHAS[0], check=False)
    assert opened.output.strip() == f"restored: stack {stack} on {PROVIDER}"
    assert wrapped_key(failing, stack) == key
    assert up.code != 0 and "DOKPLOY_API_KEY" in up.output, up.output[-3000:]
    assert composes(dokploy_server) == 0

    # Push 3, a new checkout: the stack file comes back from the state again, and `up` recovers.
    recovery = jobs.new()
    opened, up = deploy(recovery, stack, SHAS[1])
    assert opened.output.strip() == f"restored: stack {stack} on {PROVIDER}"
    assert recovery.stack_file(stack)["secretsprovider"] == PROVIDER and wrapped_key(recovery, stack) == key
    outputs = recovery.pulumi("stack", "output", "--stack", stack, "--json").output
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
    # to destroy, removes the stack (a stack that is gone: tests/ops/test_stack_files.py, `missing`).
    close = jobs.new()
    assert close.ops("open-stack", "--stack", stack, "--existing-only").output.startswith("restored:")
    close.pulumi("destroy", "--stack", stack, "--yes", "--skip-preview")
    close.pulumi("stack", "rm", stack, "--yes")
    assert composes(dokploy_server) == 0 and stack not in close.stacks()

    # Reopen: a new stack on the PR stacks' key, with a new data key.
    reopen = jobs.new()
    opened, up = deploy(reopen, stack, SHAS[2])
    assert opened.output.strip() == f"created: stack {stack} on {PROVIDER}"
    assert wrapped_key(reopen, stack) != key and composes(dokploy_server) == 1

    every_job = "\n".join(t for j in (cancelled, failing, recovery, old, close, reopen) for t in j.transcript)
    assert_no_leak(every_job, [jobs.env["VAULT_TOKEN"], dokploy_server.api_key], "the jobs' output")
