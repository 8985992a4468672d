"""The FinanceReport wiring under mocks, for pr-7, staging, production and local (issue 7, acceptance 1).

Names, domains, env keys, which values are secret, protection, dependency order, and that pr-7 reaches
no staging or production path or object.
"""

from __future__ import annotations

import re

import pytest
import yaml

from components.environment import environment_for
from tests.stacks.mocks import FAKE_DIGEST, MOCK_TOKEN, Recorder, Registered, run_program

# What an owner stack's GitHub gates need: production's reviewers and the release App (the tag ruleset's bypass).
REVIEWERS = {"financeReport:productionReviewers": '{"users": [1234]}', "financeReport:releaseAppId": "424242"}
PREVIEW_PROJECT_ID = "preview-project-id"
MAIN_PROJECT_ID = "main-project-id"


@pytest.fixture(autouse=True)
def _plugins_present(monkeypatch: pytest.MonkeyPatch) -> None:
    # The GitHub plugin is not installed here; under mocks no plugin runs, so pretend it is.
    monkeypatch.setattr("components.github.require_plugin", lambda *a, **k: None)


def _run(stack: str, config: dict[str, str], project_id: str | None) -> Recorder:
    return run_program(environment_for(stack, config), project_id=project_id, config=REVIEWERS)


TYPES = {
    "project": "pulumi-python:dynamic/dokploy:Project",
    "environment": "pulumi-python:dynamic/dokploy:Environment",
    "compose": "pulumi-python:dynamic/dokploy:Compose",
    "domain": "pulumi-python:dynamic/dokploy:Domain",
    "deployment": "pulumi-python:dynamic/dokploy:ComposeDeployment",
    "kv": "pulumi-python:dynamic/vault:KvSecret",
    "token": "pulumi-python:dynamic/vault:ServiceToken",
}


def _by_kind(rec: Recorder, kind: str) -> dict[str, Registered]:
    return {r.name: r for r in rec.by_name.values() if r.type == TYPES[kind]}


def test_staging() -> None:
    rec = _run("staging", {"imageTag": "sha-abc1234"}, None)
    projects = _by_kind(rec, "project")
    assert {p.plain("name") for p in projects.values()} == {"finance_report", "finance_report-preview"}
    assert all(p.protect for p in projects.values())
    (environment,) = _by_kind(rec, "environment").values()
    assert environment.plain("name") == "staging" and environment.plain("adopt_default") is False
    assert environment.plain("project_id") == "finance_report-id"
    _long_lived(rec, "staging", "report-staging.zitian.party", "ghcr.io/wangzitian0/finance_report-backend:sha-abc1234")
    composes = _by_kind(rec, "compose")
    assert {n: c.protect for n, c in composes.items()} == {
        "staging-postgres": True,
        "staging-redis": True,
        "staging-app": False,
    }


def test_production_adopts_default_environment_and_pins_digests() -> None:
    rec = _run("production", {"imageTag": "v1.0.45"}, MAIN_PROJECT_ID)
    assert _by_kind(rec, "project") == {}  # referenced, never owned
    (environment,) = _by_kind(rec, "environment").values()
    assert environment.plain("adopt_default") is True and environment.plain("name") is None
    assert environment.plain("project_id") == MAIN_PROJECT_ID
    assert environment.protect
    _long_lived(rec, "production", "report.zitian.party", f"ghcr.io/wangzitian0/finance_report-backend@{FAKE_DIGEST}")
    composes = _by_kind(rec, "compose")
    assert {n for n, c in composes.items() if c.protect} == {"production-postgres", "production-redis"}
    app = yaml.safe_load(composes["production-app"].plain("compose_file"))
    for svc in ("backend", "frontend"):
        image = app["services"][svc]["image"]
        assert re.fullmatch(r"ghcr\.io/wangzitian0/finance_report-\w+@sha256:[0-9a-f]{64}", image)


def test_local_keeps_the_structure_not_the_protection() -> None:
    rec = _run("local", {"baseDomain": "localhost.localdomain"}, None)
    _long_lived(rec, "local", "report-local.localhost.localdomain", "ghcr.io/wangzitian0/finance_report-backend:local")
    assert {p.plain("name") for p in _by_kind(rec, "project").values()} == {"finance_report", "finance_report-preview"}
    assert not any(r.protect for r in rec.by_name.values())
    assert all(c.plain("delete_volumes") for c in _by_kind(rec, "compose").values())
    assert not any("github" in r.type for r in rec.by_name.values())


def _long_lived(rec: Recorder, name: str, host: str, backend_image: str) -> None:
    composes = _by_kind(rec, "compose")
    assert set(composes) == {f"{name}-postgres", f"{name}-redis", f"{name}-app"}
    types = {c.plain("name"): c.plain("compose_type") for c in composes.values()}
    assert types == {"postgres": "docker-compose", "redis": "docker-compose", "app": "stack"}
    for c in composes.values():
        # Dokploy env: empty. The vault-agents log in with AppRole secret_ids the admin issued onto the
        # Dokploy host, so no credential is in the state or on a command line Dokploy builds from its env.
        assert c.plain("env") in ({}, None), c.name
        assert MOCK_TOKEN not in c.plain("compose_file")
    assert _by_kind(rec, "token") == {}
    app = yaml.safe_load(composes[f"{name}-app"].plain("compose_file"))
    assert app["services"]["backend"]["image"] == backend_image
    _routing(rec, name, host, f"{name}-app")
    _order(rec, name, data=("postgres", "redis"), app="app")
    # Vault: one KV secret per service, all under this environment's prefix.
    kv = {r.plain("path") for r in _by_kind(rec, "kv").values()}
    assert kv == {f"finance_report/{name}/{s}" for s in ("postgres", "redis", "app")}


def _routing(rec: Recorder, name: str, host: str, compose: str) -> None:
    domains = _by_kind(rec, "domain")
    table = {
        (d.plain("host"), d.plain("path"), d.plain("port"), d.plain("service_name"), d.plain("strip_path"))
        for d in domains.values()
    }
    assert table == {(host, "/api", 8000, "backend", False), (host, "/", 3000, "frontend", False)}
    for d in domains.values():
        assert d.plain("https") is True and d.plain("certificate_type") == "letsencrypt"
        assert d.plain("compose_id") == f"{compose}-id"


def _order(rec: Recorder, name: str, *, data: tuple[str, ...], app: str) -> None:
    deploys = {d.name for d in _by_kind(rec, "deployment").values()}
    assert deploys == {f"{name}-{s}-deploy" for s in (*data, app)}
    after = {f"{name}-{s}-deploy" for s in data}
    # The app's compose and its deployment both wait for the data services' deployments.
    assert after <= set(rec.by_name[f"{name}-{app}"].depends_on)
    assert after <= set(rec.by_name[f"{name}-{app}-deploy"].depends_on)
    for s in data:
        assert not set(rec.by_name[f"{name}-{s}"].depends_on) & after


def test_pr_7_reaches_nothing_of_staging_or_production() -> None:
    rec = _run("pr-7", {"imageTag": "pr-7-abc1234"}, PREVIEW_PROJECT_ID)
    assert _by_kind(rec, "project") == {}
    (environment,) = _by_kind(rec, "environment").values()
    assert (environment.plain("name"), environment.plain("project_id")) == ("pr-7", PREVIEW_PROJECT_ID)
    (compose,) = _by_kind(rec, "compose").values()
    assert compose.name == "pr-7-pr-7"
    assert (compose.plain("name"), compose.plain("compose_type")) == ("pr-7", "docker-compose")
    assert compose.plain("delete_volumes") is True
    assert set(compose.plain("env")) == {"VAULT_APP_TOKEN"} and compose.is_secret("env")
    assert not any(r.protect for r in rec.by_name.values())
    _routing(rec, "pr-7", "report-pr-7.zitian.party", "pr-7-pr-7")
    assert {d.name for d in _by_kind(rec, "deployment").values()} == {"pr-7-pr-7-deploy"}
    # Isolation: every Vault path, host and Dokploy reference is pr-7's own.
    assert {r.plain("path") for r in _by_kind(rec, "kv").values()} == {"finance_report/pr-7/pr-7"}
    text = rec.text()
    assert not re.search(r"staging|production|report\.zitian|" + MAIN_PROJECT_ID, text)
    assert set(re.findall(r"finance_report/([a-z0-9-]+)/", text)) == {"pr-7"}
    assert set(re.findall(r"report[a-z0-9-]*\.zitian\.party", text)) == {"report-pr-7.zitian.party"}
