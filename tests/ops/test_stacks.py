"""PR number → stack, image tags and environment facts, all through the environment model."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.environment import ConfigError
from ops import stacks


@pytest.mark.parametrize(("number", "stack"), [(7, "pr-7"), ("42", "pr-42"), (" 8 ", "pr-8"), (1234, "pr-1234")])
def test_pr_number_to_stack(number: int | str, stack: str) -> None:
    assert stacks.pr_stack(number) == stack


@pytest.mark.parametrize("bad", [0, -1, "07", "abc", "", "7a", "1.5"])
def test_bad_pr_numbers_are_refused_by_the_model(bad: int | str) -> None:
    with pytest.raises(ConfigError, match="unknown stack name"):
        stacks.pr_stack(bad)


def test_image_tags() -> None:
    sha = "ABCDEF1234567890abcdef1234567890abcdef12"
    assert stacks.image_tag("pr-7", sha) == "pr-7-abcdef1"
    assert stacks.image_tag("staging", sha) == "sha-abcdef1"
    with pytest.raises(ConfigError, match=r"released vX\.Y\.Z"):
        stacks.image_tag("production", sha)
    with pytest.raises(ConfigError, match="hex commit"):
        stacks.image_tag("pr-7", "not-a-sha")


def test_facts_come_from_the_model_with_the_stack_config(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text(
        "config:\n  financeReport:baseDomain: example.org\n  financeReport:healthPath: /api/healthz\n"
        "  financeReport:secretThing:\n    secure: AAAA\n  other:key: x\n  vault:address: http://127.0.0.1:8300\n"
    )
    env = stacks.environment("staging", "sha-abc1234", root=tmp_path)
    f = stacks.facts(env)
    assert f["url"] == "https://report-staging.example.org"
    assert f["health_url"] == "https://report-staging.example.org/api/healthz"
    assert f["image_tag"] == "sha-abc1234"
    assert f["dokploy_project"] == "finance_report"
    assert env.vault_address == "http://127.0.0.1:8300"  # mapped like the program maps it


def test_pr_stack_without_a_config_file_uses_model_defaults(tmp_path: Path) -> None:
    f = stacks.facts(stacks.environment("pr-7", "pr-7-abc1234", root=tmp_path))
    assert f["host"] == "report-pr-7.zitian.party"
    assert f["dokploy_project"] == "finance_report-preview"
    assert f["health_url"] == "https://report-pr-7.zitian.party/api/health"


def test_production_needs_its_release_tag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs financeReport:imageTag"):
        stacks.environment("production", None, root=tmp_path)
    with pytest.raises(ConfigError, match="not a release tag"):
        stacks.environment("production", "sha-abc1234", root=tmp_path)
    assert stacks.environment("production", "v1.2.3", root=tmp_path).url == "https://report.zitian.party"


def _update(tag: str, result: str = "succeeded", kind: str = "update", secret: bool = False) -> dict[str, object]:
    return {"kind": kind, "result": result, "config": {"financeReport:imageTag": {"value": tag, "secret": secret}}}


def test_deployed_config_is_the_newest_successful_update() -> None:
    history = [
        _update("sha-ccc1234", result="failed"),
        _update("sha-ddd1234", kind="refresh"),
        _update("sha-bbb1234"),
        _update("sha-aaa1234"),
    ]
    assert stacks.deployed_config(history, "financeReport:imageTag") == "sha-bbb1234"


def test_deployed_config_without_history_or_key_or_when_secret() -> None:
    assert stacks.deployed_config([], "financeReport:imageTag") is None
    assert stacks.deployed_config([_update("x")], "financeReport:other") is None
    assert stacks.deployed_config([_update("x", secret=True)], "financeReport:imageTag") is None
    assert stacks.parse_history("") == [] and stacks.parse_history('{"not": "a list"}') == []
