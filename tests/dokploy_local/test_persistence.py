"""State in SQLite under --data: a restart keeps every object and member key, loses queued deployment jobs,
and cancels the deployment that was running."""

from __future__ import annotations

from dokploy_local.testing import LocalDokploy
from tests.contract.api import Api, wait_for


def test_objects_survive_restart(dokploy_server: LocalDokploy) -> None:
    api = Api.of(dokploy_server)
    _, compose = api.project_with_compose()
    api.ok("POST", "domain.create", host="keep.example.com", composeId=compose["composeId"], domainType="compose")
    before = api.ok("GET", "compose.one", composeId=compose["composeId"])
    dokploy_server.restart()
    after = Api.of(dokploy_server).ok("GET", "compose.one", composeId=compose["composeId"])
    assert after == before


def test_member_keys_survive_restart(dokploy_server: LocalDokploy) -> None:
    project_id = Api.of(dokploy_server).project()["project"]["projectId"]
    dokploy_server.add_member_key("m", [project_id])
    dokploy_server.restart()
    assert Api.of(dokploy_server, key="m").get("project.one", projectId=project_id).status_code == 200


def test_restart_keeps_the_url(dokploy_server: LocalDokploy) -> None:
    url = dokploy_server.url
    dokploy_server.restart()
    assert dokploy_server.url == url


def test_queued_deployment_is_lost_and_running_one_cancelled(dokploy_server: LocalDokploy) -> None:
    dokploy_server.set_knobs(deploy_duration_ms=5000)
    api = Api.of(dokploy_server)
    _, running = api.project_with_compose()
    queued = api.compose(running["environmentId"])
    api.ok("POST", "compose.deploy", composeId=running["composeId"])
    api.ok("POST", "compose.deploy", composeId=queued["composeId"])
    wait_for(lambda: dokploy_server.count_objects()["running_jobs"] == 1)
    dokploy_server.restart()
    api = Api.of(dokploy_server)
    queued_rows = api.ok("GET", "deployment.allByCompose", composeId=queued["composeId"])
    running_rows = api.ok("GET", "deployment.allByCompose", composeId=running["composeId"])
    counts = dokploy_server.count_objects()
    assert (queued_rows, [r["status"] for r in running_rows], counts["queued_jobs"]) == ([], ["cancelled"], 0)


def test_serial_keeps_counting_after_restart(dokploy_server: LocalDokploy) -> None:
    api = Api.of(dokploy_server)
    first = api.ok("POST", "domain.create", host="a.example.com")
    dokploy_server.restart()
    second = Api.of(dokploy_server).ok("POST", "domain.create", host="b.example.com")
    assert second["uniqueConfigKey"] == first["uniqueConfigKey"] + 1
