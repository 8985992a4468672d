"""Next release version: no tag yet, malformed tags, numeric order, re-runs on a released commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops import versions
from ops.stacks import REPO


def test_no_tag_yet_starts_at_v0_0_1() -> None:
    assert versions.next_version([]) == "v0.0.1"


def test_malformed_tags_are_ignored() -> None:
    junk = ["v1.2", "1.2.3", "v1.2.3-rc1", "v01.2.3", "release-9", "v1.2.3.4", "V9.9.9", "v9.9.x", ""]
    assert versions.next_version(junk) == "v0.0.1"
    assert versions.next_version([*junk, "v0.4.2"]) == "v0.4.3"


def test_numeric_not_lexical_order() -> None:
    assert versions.next_version(["v1.9.9", "v1.10.0", "v1.2.30"]) == "v1.10.1"
    assert versions.next_version(["v2.0.0", "v10.0.0"]) == "v10.0.1"


def test_a_rerun_on_a_released_commit_reuses_its_tag() -> None:
    assert versions.release_for_commit(["v1.0.0", "v1.0.1"], ["v1.0.1"]) == ("v1.0.1", False)
    assert versions.release_for_commit(["v1.0.0", "v1.0.1"], ["not-a-release"]) == ("v1.0.2", True)


def test_previous_release() -> None:
    tags = ["v1.0.0", "v1.0.2", "v1.1.0", "junk"]
    assert versions.previous_release(tags, "v1.1.0") == "v1.0.2"
    assert versions.previous_release(tags, "v1.0.0") is None
    assert versions.previous_release(tags, "junk") is None


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    return tmp_path


def _next(repo: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "ops", "next-version"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO), "GITHUB_OUTPUT": ""},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cli_reads_the_git_tags(repo: Path) -> None:
    assert _next(repo) == "version=v0.0.1\nnew=true\n"
    _git(repo, "tag", "v0.3.9")
    _git(repo, "tag", "v0.3.10-rc1")
    assert _next(repo) == "version=v0.3.9\nnew=false\n"  # HEAD is already released
    _git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    assert _next(repo) == "version=v0.3.10\nnew=true\n"
