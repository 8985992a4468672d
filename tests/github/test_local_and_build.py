"""`local` needs no provider plugin and no registry; building in Pulumi is opt-in and says what it lacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.environment import environment_for
from components.github import GithubArgs, GithubConfigError, GithubRepository
from components.images import BuildOptions, ImageBuildUnavailable, ImagePolicyError, Images, ImagesArgs
from components.plugins import MissingPluginError, sdk_plugin_version
from tests.github.mocking import fake_plugin, is_secret, reveal, run
from tests.github.test_before_any_change import run_expecting

REPO = Path(__file__).resolve().parents[2]
IMAGE = "docker-build:index:Image"

LOCAL_PROGRAM = """
import sys
from tests.github.mocking import run
from tests.github.program import stack_program

def no_registry(image, tag):
    raise AssertionError("local must not touch a registry")

captured = {}
rec = run("local", lambda: stack_program("local", resolver=no_registry).apply(lambda v: captured.update(v=v)))
assert not rec.custom(), rec.custom()
print(captured["v"])
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi_github", "pulumi_docker_build")))
"""


def test_local_runs_without_any_provider_plugin_or_registry(tmp_path: Path) -> None:
    home = tmp_path / "pulumi-home"
    home.mkdir()
    env = {**os.environ, "PULUMI_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", LOCAL_PROGRAM], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    refs_line, modules_line = proc.stdout.strip().splitlines()[-2:]
    repo = "ghcr.io/wangzitian0/finance_report"
    assert refs_line == str([{"backend": f"{repo}-backend:local", "frontend": f"{repo}-frontend:local"}, {}])
    assert modules_line == "[]"  # neither provider SDK was even imported


def test_github_refuses_the_local_stack(no_plugins: Path) -> None:
    args = GithubArgs(environment_for("local"), owner="wangzitian0", repository="finance_report")
    message, rec = run_expecting("local", lambda: GithubRepository("github", args), GithubConfigError)
    assert message == "stack local does not manage GitHub (managers.github is off)" and rec.resources == []


@pytest.fixture
def docker_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # A short path: unix socket paths are limited to ~107 bytes.
    directory = tempfile.mkdtemp(prefix="dock", dir="/tmp")
    path = f"{directory}/docker.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        yield path
    os.unlink(path)
    os.rmdir(directory)


def staging_build() -> Images:
    env = environment_for("staging", {"imageTag": "sha-abc1234", "baseDomain": "example.org"})
    return Images("images", ImagesArgs(env, build=BuildOptions(context_root="/src/finance_report")))


def test_building_in_pulumi_without_docker_says_so(no_plugins: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    message, rec = run_expecting("staging", staging_build, ImageBuildUnavailable)
    assert message.startswith("stack staging must build ghcr.io/wangzitian0/finance_report-backend:sha-abc1234")
    assert "no Docker daemon answers at unix:///nonexistent/docker.sock" in message
    assert "let CI build and push them" in message
    assert rec.resources == []


def test_building_needs_the_docker_build_plugin(no_plugins: Path, docker_socket: str) -> None:
    message, rec = run_expecting("staging", staging_build, MissingPluginError)
    assert "'docker-build' resource plugin" in message and "pulumi plugin install resource docker-build" in message
    assert rec.resources == []


def test_building_registers_both_images_with_the_environment_build_args(
    no_plugins: Path, docker_socket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_plugin(no_plugins, "docker-build", sdk_plugin_version("pulumi_docker_build"))
    monkeypatch.setenv("GITHUB_ACTOR", "bot")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_token")
    rec = run("staging", staging_build)
    repo = "ghcr.io/wangzitian0/finance_report"
    for component in ("backend", "frontend"):
        image = rec.one(IMAGE, context={"location": f"/src/finance_report/apps/{component}"})
        assert image.inputs["tags"] == [f"{repo}-{component}:sha-abc1234", f"{repo}-{component}:staging"]
        assert image.inputs["push"] is True
        assert is_secret(image.inputs["registries"])  # it carries the token
        assert reveal(image.inputs["registries"]) == [
            {"address": "ghcr.io", "username": "bot", "password": "ghs_token"}
        ]
        expected_args = {"NEXT_PUBLIC_API_URL": "https://report-staging.example.org"} if component == "frontend" else {}
        assert image.inputs.get("buildArgs", {}) == expected_args


def test_production_never_builds(plugins: Path, docker_socket: str) -> None:
    env = environment_for("production", {"imageTag": "v1.2.3"})
    args = ImagesArgs(env, resolver=lambda image, tag: "sha256:" + "a" * 64, build=BuildOptions(context_root="/src"))
    message, rec = run_expecting("production", lambda: Images("images", args), ImagePolicyError)
    assert message == "stack production never builds images (verify-digest); drop the build option"
    assert rec.resources == []
