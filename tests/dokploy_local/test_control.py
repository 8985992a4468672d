"""The control API and its handle: request log, counters, seeding, object counts."""

from __future__ import annotations

import httpx

from dokploy_local.testing import LocalDokploy
from tests.contract.api import Api


def test_control_api_needs_the_owner_key(server: LocalDokploy) -> None:
    assert httpx.get(f"{server.url}/__local/counts").status_code == 401


def test_request_log_records_calls(dokploy_server: LocalDokploy) -> None:
    Api.of(dokploy_server).ok("POST", "project.create", name="logged")
    entry = dokploy_server.requests()[-1]
    summary = {k: entry[k] for k in ("method", "procedure", "kind", "principal", "status", "outcome")}
    assert summary == {
        "method": "POST",
        "procedure": "project.create",
        "kind": "write",
        "principal": "owner",
        "status": 200,
        "outcome": "ok",
    }


def test_request_log_redacts_passwords(dokploy_server: LocalDokploy) -> None:
    Api.of(dokploy_server).post(
        "registry.testRegistry", username="u", password="hunter2", registryUrl="", registryType="cloud"
    )
    assert dokploy_server.requests()[-1]["input"]["password"] == "***"


def test_request_log_keeps_no_compose_env(dokploy_server: LocalDokploy) -> None:
    api = Api.of(dokploy_server)
    _, compose = api.project_with_compose()
    api.ok("POST", "compose.update", composeId=compose["composeId"], env="TOKEN=s3cret-token-value")
    logged = dokploy_server.requests()[-1]["input"]
    assert logged["env"] == "***" and logged["composeId"] == compose["composeId"]
    assert "s3cret-token-value" not in str(dokploy_server.requests())


def test_request_log_since(dokploy_server: LocalDokploy) -> None:
    api = Api.of(dokploy_server)
    api.get("project.all")
    last = dokploy_server.requests()[-1]["seq"]
    api.get("settings.getDokployVersion")
    assert [e["procedure"] for e in dokploy_server.requests(since=last)] == ["settings.getDokployVersion"]


def test_counters_split_reads_and_writes(dokploy_server: LocalDokploy) -> None:
    api = Api.of(dokploy_server)
    api.project()
    api.get("project.all")
    api.get("project.all")
    counters = dokploy_server.counters()
    assert (counters["reads"], counters["writes"], counters["by_procedure"]) == (
        2,
        1,
        {"project.create": 1, "project.all": 2},
    )


def test_counters_count_unmatched_paths(dokploy_server: LocalDokploy) -> None:
    httpx.get(f"{dokploy_server.url}/api/nothing.here", headers={"x-api-key": dokploy_server.api_key})
    assert dokploy_server.counters()["unmatched"] == 1


def test_health_is_not_counted(dokploy_server: LocalDokploy) -> None:
    httpx.get(f"{dokploy_server.url}/api/health")
    assert dokploy_server.counters()["total"] == 0


def test_reset_stats(dokploy_server: LocalDokploy) -> None:
    Api.of(dokploy_server).get("project.all")
    dokploy_server.reset_stats()
    assert (dokploy_server.counters()["total"], dokploy_server.requests()) == (0, [])


def test_seed_creates_objects(dokploy_server: LocalDokploy) -> None:
    dokploy_server.seed(
        projects=3,
        environments_per_project=1,
        composes_per_environment=2,
        domains_per_compose=1,
        deployments_per_compose=2,
    )
    counts = dokploy_server.count_objects()
    assert {k: counts[k] for k in ("projects", "environments", "composes", "domains", "deployments")} == {
        "projects": 3,
        "environments": 6,
        "composes": 12,
        "domains": 12,
        "deployments": 24,
    }


def test_seeded_objects_answer_like_created_ones(dokploy_server: LocalDokploy) -> None:
    seeded = dokploy_server.seed(
        projects=2, composes_per_environment=1, domains_per_compose=1, deployments_per_compose=1
    )
    api = Api.of(dokploy_server)
    compose_id = seeded["projects"][0]["composeIds"][0]
    # Api checks each answer against the response schemas.
    api.ok("GET", "project.all")
    api.ok("GET", "compose.one", composeId=compose_id)
    assert len(api.ok("GET", "deployment.allByCompose", composeId=compose_id)) == 1


def test_seed_does_not_count_as_api_calls(dokploy_server: LocalDokploy) -> None:
    dokploy_server.seed(projects=5)
    assert dokploy_server.counters()["total"] == 0


def test_bad_seed_spec_is_refused(server: LocalDokploy) -> None:
    response = httpx.post(f"{server.url}/__local/seed", json={"planets": 1}, headers={"x-api-key": server.api_key})
    assert response.status_code == 400
