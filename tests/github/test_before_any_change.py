"""Production's image rules, a missing plugin and bad GitHub settings all fail before anything is registered."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.environment import ConfigError, environment_for
from components.github import GithubArgs, GithubConfigError, GithubRepository, Reviewers
from components.images import Images, ImagesArgs, Resolver
from components.oci import ManifestNotFound, RegistryAuthError
from components.plugins import MissingPluginError
from tests.github.mocking import Recorder, execute, install, run
from tests.github.program import DIGESTS, stack_program


def run_expecting(stack: str, program: Callable[[], Any], error: type[Exception]) -> tuple[str, Recorder]:
    recorder = install(stack)
    with pytest.raises(error) as err:
        execute(recorder, program)
    return str(err.value), recorder


def missing(component: str) -> Resolver:
    def resolve(image: str, tag: str) -> str:
        if image.endswith(component):
            raise ManifestNotFound(f"image {image}:{tag} not found: no such tag in the registry")
        return DIGESTS[image.rsplit("-", 1)[1]]

    return resolve


def test_production_with_a_missing_image_registers_nothing(plugins: Path) -> None:
    message, rec = run_expecting(
        "production",
        lambda: stack_program("production", {"imageTag": "v1.2.3"}, resolver=missing("frontend")),
        ManifestNotFound,
    )
    assert "ghcr.io/wangzitian0/finance_report-frontend:v1.2.3 not found" in message
    assert "nothing was changed" in message
    assert rec.resources == []


def test_production_with_unreadable_registry_registers_nothing(plugins: Path) -> None:
    def denied(image: str, tag: str) -> str:
        raise RegistryAuthError("registry ghcr.io refused the credentials")

    message, rec = run_expecting(
        "production", lambda: stack_program("production", {"imageTag": "v1.2.3"}, resolver=denied), RegistryAuthError
    )
    assert "refused the credentials" in message and rec.resources == []


def test_production_with_a_non_release_tag_registers_nothing(plugins: Path) -> None:
    with pytest.raises(ConfigError, match=r"production image tag 'sha-abc1234' is not a release tag vX\.Y\.Z"):
        environment_for("production", {"imageTag": "sha-abc1234"})
    # An Environment built around the model still meets the rule at the image component.
    env = dataclasses.replace(environment_for("production", {"imageTag": "v1.2.3"}), image_tag="latest")
    calls: list[str] = []

    def resolver(image: str, tag: str) -> str:
        calls.append(tag)
        return DIGESTS["backend"]

    message, rec = run_expecting(
        "production", lambda: Images("images", ImagesArgs(env, resolver=resolver)), ConfigError
    )
    assert "production image tag 'latest' is not a release tag vX.Y.Z" in message
    assert rec.resources == [] and calls == []
    # A tag that only looks like a release (trailing newline) meets the same rule at the image step.
    env = dataclasses.replace(env, image_tag="v1.2.3\n")
    message, rec = run_expecting(
        "production", lambda: Images("images", ImagesArgs(env, resolver=resolver)), ConfigError
    )
    assert message.startswith("production image tag 'v1.2.3\\n' is not a release tag vX.Y.Z")
    assert rec.resources == [] and calls == []


@pytest.mark.parametrize("stack", ["pr-7", "staging", "production"])
def test_a_missing_github_plugin_is_named_with_its_install_command(no_plugins: Path, stack: str) -> None:
    tags = {"pr-7": "pr-7-abc1234", "staging": "sha-abc1234", "production": "v1.2.3"}
    message, rec = run_expecting(stack, lambda: stack_program(stack, {"imageTag": tags[stack]}), MissingPluginError)
    assert "'github' resource plugin v6.15.0" in message
    assert "`pulumi plugin install resource github v6.15.0`" in message
    assert f"stack {stack}" in message and "nothing was changed" in message
    assert rec.resources == []


def test_an_interrupted_plugin_install_does_not_count(plugins: Path) -> None:
    (plugins / "plugins" / "resource-github-v6.15.0.partial").write_text("")
    _, rec = run_expecting("pr-7", lambda: stack_program("pr-7", {"imageTag": "pr-7-abc1234"}), MissingPluginError)
    assert rec.resources == []


def test_an_ambient_plugin_on_path_counts(no_plugins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "bin" / "pulumi-resource-github"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", f"{binary.parent}:/usr/bin:/bin")
    rec = run("pr-7", lambda: stack_program("pr-7", {"imageTag": "pr-7-abc1234"}))
    assert rec.custom()


@pytest.mark.parametrize(
    ("reviewers", "wait", "message"),
    [
        (Reviewers(), None, "production environment needs at least one required reviewer"),
        (Reviewers(users=tuple(range(1, 8))), None, "7 production reviewers given; GitHub allows at most 6"),
        (Reviewers(users=(1,)), -1, r"wait timer -1 min is outside 0\.\.43200"),
        (Reviewers(users=(1,)), 43_201, r"wait timer 43201 min is outside 0\.\.43200"),
    ],
)
def test_staging_github_settings_are_checked_first(
    plugins: Path, reviewers: Reviewers, wait: int | None, message: str
) -> None:
    text, rec = run_expecting(
        "staging",
        lambda: stack_program("staging", {"imageTag": "sha-abc1234"}, reviewers=reviewers, wait_timer_minutes=wait),
        GithubConfigError,
    )
    assert re.search(message, text)
    assert rec.resources == []


def test_reviewers_matter_only_to_the_stack_that_owns_production_gate(plugins: Path) -> None:
    # production's stack owns no gate, so it needs no reviewer list; pr-7 neither.
    run("production", lambda: stack_program("production", {"imageTag": "v1.2.3"}, reviewers=Reviewers()))
    run("pr-7", lambda: stack_program("pr-7", {"imageTag": "pr-7-abc1234"}, reviewers=Reviewers()))


def test_a_pr_stack_can_never_own_shared_objects() -> None:
    # The model refuses it, so no PR stack ever reaches the GitHub component as an owner.
    with pytest.raises(ConfigError, match="stack pr-7 is a PR stack and can never own the shared projects"):
        environment_for("pr-7", {"imageTag": "pr-7-abc1234", "ownsProjects": "true"})


@pytest.mark.parametrize(
    ("owner", "repository"), [("", "finance_report"), ("wangzitian0", "wangzitian0/finance_report")]
)
def test_owner_and_repository_are_checked(plugins: Path, owner: str, repository: str) -> None:
    env = environment_for("pr-7", {"imageTag": "pr-7-abc1234"})
    args = GithubArgs(env, owner=owner, repository=repository)
    message, _ = run_expecting("pr-7", lambda: GithubRepository("github", args), GithubConfigError)
    assert "give both, the repository without its owner" in message
