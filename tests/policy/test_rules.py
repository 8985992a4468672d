"""The policy pack's rules, directly and through the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy.rules import is_data_bearing, protection_violation, stack_of, unpinned_app_images
from tests.support.pulumi_cli import make_project, pulumi_available

REPO = Path(__file__).resolve().parents[2]
COMPOSE = "pulumi-python:dynamic/dokploy:Compose"
PROJECT = "pulumi-python:dynamic/dokploy:Project"


def urn(stack: str, name: str, type_: str = COMPOSE) -> str:
    return f"urn:pulumi:{stack}::finance-report::financeReport:index:FinanceReport${type_}::{name}"


def test_stack_is_read_from_the_urn() -> None:
    assert stack_of(urn("pr-12", "x")) == "pr-12"
    assert stack_of(urn("production", "x")) == "production"


@pytest.mark.parametrize(
    ("type_", "name", "expected"),
    [
        (COMPOSE, "production-postgres", True),
        (COMPOSE, "staging-redis", True),
        (COMPOSE, "staging-app", False),
        (PROJECT, "finance_report", True),
        ("pulumi-python:dynamic/dokploy:Domain", "staging-api", False),
    ],
)
def test_data_bearing(type_: str, name: str, expected: bool) -> None:
    assert is_data_bearing(type_, name) is expected


def test_unprotected_data_in_production_is_a_violation() -> None:
    msg = protection_violation(urn("production", "production-postgres"), COMPOSE, "production-postgres", False)
    assert msg == "production-postgres holds data in stack production and must be created with protect=True"
    assert protection_violation(urn("production", "production-postgres"), COMPOSE, "production-postgres", True) is None


def test_pr_and_local_data_need_no_protection() -> None:
    for stack in ("pr-7", "local"):
        assert protection_violation(urn(stack, f"{stack}-postgres"), COMPOSE, f"{stack}-postgres", False) is None


def test_unpinned_app_images_are_found() -> None:
    text = (
        "services:\n"
        "  backend:\n    image: ghcr.io/o/finance_report-backend:v1.0.0\n"
        "  frontend:\n    image: 'ghcr.io/o/finance_report-frontend@sha256:" + "a" * 64 + "'\n"
        "  db:\n    image: postgres:16-alpine\n"
    )
    assert unpinned_app_images({"compose_file": text}, "ghcr.io/") == ["ghcr.io/o/finance_report-backend:v1.0.0"]


PROGRAM = """
import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class Noop(ResourceProvider):
    def create(self, props):
        return CreateResult("id-" + props["n"], props)


class Compose(Resource, module="dokploy", name="Compose"):
    def __init__(self, name, text, protect):
        super().__init__(Noop(), name, {"n": name, "compose_file": text}, pulumi.ResourceOptions(protect=protect))


protect = pulumi.Config().get_bool("protect") or False
Compose("production-postgres", "services:\\n  db:\\n    image: postgres:16-alpine\\n", protect)
Compose("production-app", pulumi.Config().require("appCompose"), False)
"""


@pytest.mark.engine
@pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi")
def test_policy_pack_through_the_engine(tmp_path: Path) -> None:
    cli = make_project(tmp_path, PROGRAM, name="finance-report")
    cli.run("stack", "init", "production")
    tagged = "services:\n  backend:\n    image: ghcr.io/o/finance_report-backend:v1.0.0\n"
    cli.run("config", "set", "appCompose", tagged, "--stack", "production")

    bad = cli.preview("production", "--policy-pack", str(REPO / "policy"), check=False)
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "production-postgres holds data in stack production" in out
    assert "runs ghcr.io/o/finance_report-backend:v1.0.0 by tag" in out

    pinned = "services:\n  backend:\n    image: ghcr.io/o/finance_report-backend@sha256:" + "b" * 64 + "\n"
    cli.run("config", "set", "appCompose", pinned, "--stack", "production")
    cli.run("config", "set", "protect", "true", "--stack", "production")
    good = cli.preview("production", "--policy-pack", str(REPO / "policy"))
    assert "finance-report" in good.stdout  # the pack ran
    assert "holds data" not in good.stdout and "by tag" not in good.stdout
