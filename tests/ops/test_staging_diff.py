"""What a PR changes in staging's desired state (ops/staging_diff.py), rendered from the code alone.

Each case is a small git repository holding this project's committed files: a base commit on `main`, a PR
commit on top, and the merge commit GitHub would check out; `staging_diff` renders both trees under mocks
in a fresh interpreter and compares them, as the staging-diff job of pr-environment.yml does.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from components.environment import environment_for
from ops import comments
from ops.staging_diff import Render, StagingDiffError, diff, section, staging_diff

REPO = Path(__file__).resolve().parents[2]
TAG = "sha-abc1234"
CIPHERTEXT = "v1:WQH7nO1a9Jx0d1ciphertext-of-the-staging-dokploy-key"
# The committed file has no reviewers until `make init-stack`; with them the GitHub side renders too.
STAGING_EXTRA = (
    "  financeReport:productionReviewers:\n    users: [alice]\n  financeReport:releaseAppId: '42'\n"
    f"  dokploy:apiKey:\n    secure: {CIPHERTEXT}\n"
)


def git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.test", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@example.test", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """main: the project's committed files, staging's file as an installer commits it."""
    root = tmp_path_factory.mktemp("staging-diff") / "repo"
    root.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    staging = root / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text() + STAGING_EXTRA)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def pull_request(
    repo: Path, branch: str, edit: dict[str, tuple[str, str]], append: dict[str, str] | None = None
) -> tuple[Path, str]:
    """A PR commit replacing old->new in each file (and appending text to others), and its merge into main
    checked out (detached), as GitHub's refs/pull/<N>/merge."""
    git(repo, "checkout", "-q", "-B", branch, "main")
    for rel, (old, new) in edit.items():
        path = repo / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))
    for rel, more in (append or {}).items():
        (repo / rel).write_text((repo / rel).read_text() + more)
    git(repo, "commit", "-q", "-a", "--allow-empty", "-m", branch)
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", f"merge {branch}", head)
    return repo, head


def changed_names(text: str) -> set[str]:
    return set(re.findall(r"<summary><code>([^<]+)</code>", text))


def test_a_pr_changing_the_health_path_shows_the_app_compose_and_its_deployment_as_changed(base_repo: Path) -> None:
    extra = "  financeReport:healthPath: /api/ready\n"
    repo, _ = pull_request(
        base_repo, "health", {"Pulumi.staging.yaml": ("dokploy:url:", extra.strip() + "\n  dokploy:url:")}
    )
    text = staging_diff(repo, "merge-parent", TAG)
    assert text.splitlines()[2] == "**staging: 2 to update, 0 to add, 0 to remove**"
    assert changed_names(text) == {"staging-app", "staging-app-deploy"}  # the compose, and the redeploy it causes
    assert "-      - http://127.0.0.1:8000/api/health\n+      - http://127.0.0.1:8000/api/ready" in text
    assert "rendered from the code without staging's credentials" in text and "staging.yml" in text


def test_a_pr_changing_a_compose_template_shows_exactly_that_compose(base_repo: Path) -> None:
    edit = {"components/compose/templates.py": ('REDIS_IMAGE = "redis:7-alpine"', 'REDIS_IMAGE = "redis:7.4-alpine"')}
    repo, _ = pull_request(base_repo, "redis", edit)
    text = staging_diff(repo, "merge-parent", TAG)
    assert "**staging: 2 to update, 0 to add, 0 to remove**" in text
    assert changed_names(text) == {"staging-redis", "staging-redis-deploy"}
    assert "-    image: redis:7-alpine\n+    image: redis:7.4-alpine" in text


def test_an_unchanged_pr_says_no_change_and_no_secret_config_value_appears(base_repo: Path) -> None:
    """A docs change and a re-encrypted secret: nothing staging renders changes; the ciphertexts (and the
    placeholder standing for them) never reach the text, and Vault's values are marked, not shown."""
    new_cipher = "v1:ZZZ-another-ciphertext-after-rotation"
    edit = {"README.md": ("# Finance Report", "# Finance Report!"), "Pulumi.staging.yaml": (CIPHERTEXT, new_cipher)}
    repo, _ = pull_request(base_repo, "docs", edit)
    text = staging_diff(repo, "merge-parent", TAG)
    assert "**no change to staging**" in text and "<details" not in text
    for needle in (CIPHERTEXT, new_cipher, "ciphertext", "placeholder"):
        assert needle not in text


def test_the_program_under_render_sees_none_of_the_steps_environment(
    base_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile: a PR whose program reports its whole environment in its error, run by a step that (wrongly)
    holds staging credentials: none of them is there to report. (Files are another matter: the program can
    read what the runner holds, which is why the job holds no credential at all: tests/workflows.)"""
    planted = {
        "VAULT_TOKEN": "hvs.planted-vault-token",
        "DOKPLOY_API_KEY": "planted-dokploy-key",
        "AWS_SECRET_ACCESS_KEY": "planted-state-secret",
        "PULUMI_CONFIG_PASSPHRASE": "planted-passphrase",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "planted-oidc-request-token",
    }
    for key, value in planted.items():
        monkeypatch.setenv(key, value)
    hostile = (
        "\n\ndef read_model(stack=None):  # hostile: exfiltrate through the error text\n"
        "    import os\n"
        "    raise ConfigError('ENV ' + ' '.join(sorted(os.environ)) + ' VALUES ' + ' '.join(os.environ.values()))\n"
    )
    repo, _ = pull_request(base_repo, "hostile", {}, append={"components/program.py": hostile})
    text = staging_diff(repo, "merge-parent", TAG)
    assert "not rendered at this PR" in text and "ENV " in text  # the hostile code did run, and reported
    names = text.split("ENV ", 1)[1].split(" VALUES ", 1)[0].split()
    assert "PATH" in names and set(names) <= {"HOME", "LANG", "PATH", "TMPDIR", "PULUMI_HOME", "LC_CTYPE"}, names
    assert not any(value in text for value in planted.values())


def test_not_a_merge_commit_is_one_clear_error(base_repo: Path) -> None:
    git(base_repo, "checkout", "-q", "--detach", "main")
    git(base_repo, "commit", "-q", "--allow-empty", "-m", "plain")
    with pytest.raises(StagingDiffError, match=r"not a PR merge commit.*--base <sha>"):
        staging_diff(base_repo, "merge-parent", TAG)


# ---- the text, from renders given directly (no interpreter started) -----------------------------------
def _compose(i: int, line: str) -> dict[str, object]:
    return {"compose_file": "\n".join(f"line {n} {line if n == 50 else ''}" for n in range(400)), "name": f"c{i}"}


def test_the_diff_lists_added_removed_and_changed_inputs_only() -> None:
    base: dict[str, dict[str, Any]] = {"t::kept": {"a": 1, "b": "x"}, "t::gone": {"a": 1}, "t::same": {"a": 1}}
    head: dict[str, dict[str, Any]] = {
        "t::kept": {"a": 2, "b": "x", "c": True},
        "t::new": {"a": 1},
        "t::same": {"a": 1},
    }
    d = diff(base, head)
    assert (d.added, d.removed) == (["t::new"], ["t::gone"])
    assert [(c.key, c.inputs) for c in d.changed] == [("t::kept", {"a": (1, 2), "c": (None, True)})]
    assert d.summary("staging") == "staging: 1 to update, 1 to add, 1 to remove"


def test_the_staging_section_stays_under_its_cap_and_the_comment_under_githubs_limit() -> None:
    many = 400
    base = Render({f"pulumi-python:dynamic/dokploy:Compose::c{i}": _compose(i, "old " * 40) for i in range(many)})
    head = Render({f"pulumi-python:dynamic/dokploy:Compose::c{i}": _compose(i, "new " * 40) for i in range(many)})
    text = section(base, head)
    assert len(text) <= comments.BODY_LIMIT // 2
    assert text.splitlines()[2] == f"**staging: {many} to update, 0 to add, 0 to remove**"  # the summary first
    assert re.search(r"… and \d+ more to update", text)
    env = environment_for("pr-7", {"imageTag": "pr-7-abc1234"})
    body = comments.pr_environment(env, "a" * 40, [], "https://run", staging=text + "x" * 70_000)
    assert len(body) < 65_536 and body.index("| Run |") < body.index("What this PR changes in staging")
    assert json.dumps(body)  # one string GitHub accepts as a body


def test_a_head_that_does_not_render_says_so_instead_of_a_diff() -> None:
    text = section(Render({"t::a": {}}), Render(error="ConfigError: unknown config key financeReport:x"))
    assert "staging: not rendered at this PR**: ConfigError: unknown config key financeReport:x" in text
