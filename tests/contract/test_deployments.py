"""Deployments: a queue per server with one job at a time, statuses `running` -> `done`/`error`, the old
status visible until the job starts, at most the newest 10 rows kept before a new one, no error text."""

from __future__ import annotations

from typing import Any

from dokploy_local.testing import LocalDokploy
from tests.contract.api import Api, wait_for


def setup(server: LocalDokploy, **knobs: Any) -> tuple[Api, dict[str, Any]]:
    if knobs:
        server.set_knobs(**knobs)
    api = Api.of(server)
    return api, api.project_with_compose()[1]


def status(api: Api, compose: dict[str, Any]) -> str:
    value: str = api.ok("GET", "compose.one", composeId=compose["composeId"])["composeStatus"]
    return value


def rows(api: Api, compose: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok("GET", "deployment.allByCompose", composeId=compose["composeId"])
    return found


def idle_queue(server: LocalDokploy) -> bool:
    counts = server.count_objects()
    return counts["queued_jobs"] == 0 and counts["running_jobs"] == 0


def test_deploy_answers_queued(api: Api) -> None:
    _, compose = api.project_with_compose()
    assert api.ok("POST", "compose.deploy", composeId=compose["composeId"]) == {
        "success": True,
        "message": "Deployment queued",
        "composeId": compose["composeId"],
    }


def test_redeploy_answers_queued(api: Api) -> None:
    _, compose = api.project_with_compose()
    assert api.ok("POST", "compose.redeploy", composeId=compose["composeId"])["message"] == "Redeployment queued"


def test_deploy_unknown_is_404(api: Api) -> None:
    assert api.post("compose.deploy", composeId="unknown").status_code == 404


def test_compose_status_goes_running_then_done(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_duration_ms=400)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    seen = [wait_for(lambda: status(api, compose) == "running" and "running")]
    seen.append(wait_for(lambda: status(api, compose) == "done" and "done"))
    assert seen == ["running", "done"]


def test_deployment_row_goes_running_then_done(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_duration_ms=400)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"], title="t1")
    first = wait_for(lambda: rows(api, compose))[0]
    wait_for(lambda: rows(api, compose)[0]["status"] == "done")
    assert (first["status"], first["title"], rows(api, compose)[0]["finishedAt"] is not None) == ("running", "t1", True)


def test_old_status_visible_until_job_starts(dokploy_server: LocalDokploy) -> None:
    api, busy = setup(dokploy_server, deploy_duration_ms=600)
    waiting = api.compose(api.project()["environment"]["environmentId"])
    api.ok("POST", "compose.start", composeId=waiting["composeId"])  # its previous status: done
    api.ok("POST", "compose.deploy", composeId=busy["composeId"])
    wait_for(lambda: status(api, busy) == "running")
    api.ok("POST", "compose.deploy", composeId=waiting["composeId"])
    assert (status(api, waiting), rows(api, waiting)) == ("done", [])


def test_one_job_at_a_time(dokploy_server: LocalDokploy) -> None:
    api, first = setup(dokploy_server, deploy_duration_ms=200)
    second = api.compose(first["environmentId"])
    for compose in (first, second):
        api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    wait_for(lambda: idle_queue(dokploy_server) and rows(api, second) and rows(api, second)[0]["finishedAt"])
    assert rows(api, second)[0]["startedAt"] >= rows(api, first)[0]["finishedAt"]


def test_error_outcome(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_outcome="error", deploy_duration_ms=0)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    wait_for(lambda: status(api, compose) == "error")
    assert rows(api, compose)[0]["status"] == "error"


def test_no_error_text_on_failure(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_outcome="error", deploy_duration_ms=0)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    wait_for(lambda: status(api, compose) == "error")
    assert rows(api, compose)[0]["errorMessage"] is None


def test_default_titles(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_duration_ms=0)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    api.ok("POST", "compose.redeploy", composeId=compose["composeId"])
    wait_for(lambda: idle_queue(dokploy_server) and len(rows(api, compose)) == 2)
    assert [r["title"] for r in rows(api, compose)] == ["Rebuild deployment", "Manual deployment"]


def test_newest_ten_kept_before_each_new_row(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_duration_ms=0)
    for n in range(13):
        api.ok("POST", "compose.deploy", composeId=compose["composeId"], title=f"d{n}")
    wait_for(lambda: idle_queue(dokploy_server) and all(r["finishedAt"] for r in rows(api, compose)))
    # removeLastTenDeployments keeps the newest 10 and then inserts: 11 rows right after a job starts.
    assert len(rows(api, compose)) == 11


def test_the_callers_title_is_overwritten_when_the_run_ends(dokploy_server: LocalDokploy) -> None:
    """Field report (issue 15): a deployment cannot be found by the title its deploy call gave it."""
    api, compose = setup(dokploy_server, deploy_duration_ms=300)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"], title="pulumi:abc run:123")
    running = wait_for(lambda: rows(api, compose))[0]
    wait_for(lambda: rows(api, compose)[0]["status"] == "done")
    assert (running["title"], rows(api, compose)[0]["title"]) == ("pulumi:abc run:123", "Manual deployment")


def test_queue_list_names_the_running_job_and_those_waiting(dokploy_server: LocalDokploy) -> None:
    api, busy = setup(dokploy_server, deploy_duration_ms=800)
    waiting = api.compose(busy["environmentId"])
    api.ok("POST", "compose.deploy", composeId=busy["composeId"])
    wait_for(lambda: rows(api, busy))
    api.ok("POST", "compose.deploy", composeId=waiting["composeId"], title="behind")
    jobs = api.ok("GET", "deployment.queueList")
    assert [(j["state"], j["data"]["composeId"], j["data"]["titleLog"]) for j in jobs] == [
        ("waiting", waiting["composeId"], "behind"),
        ("active", busy["composeId"], "Manual deployment"),
    ]


def test_queue_list_answers_a_list(api: Api) -> None:
    """On any server (v0.30.x): the deploy wait reads it to say what a stuck deploy waits behind."""
    assert isinstance(api.ok("GET", "deployment.queueList"), list)


def test_delete_drops_queued_jobs(dokploy_server: LocalDokploy) -> None:
    api, busy = setup(dokploy_server, deploy_duration_ms=800)
    queued = api.compose(busy["environmentId"])
    api.ok("POST", "compose.deploy", composeId=busy["composeId"])
    api.ok("POST", "compose.deploy", composeId=queued["composeId"])
    api.ok("POST", "compose.delete", composeId=queued["composeId"], deleteVolumes=False)
    assert dokploy_server.count_objects()["queued_jobs"] == 0


def test_delete_cascades_deployments(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_duration_ms=0)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    wait_for(lambda: idle_queue(dokploy_server) and rows(api, compose))
    api.ok("POST", "compose.delete", composeId=compose["composeId"], deleteVolumes=False)
    assert dokploy_server.count_objects()["deployments"] == 0


def test_all_by_type_lists_compose_deployments(dokploy_server: LocalDokploy) -> None:
    api, compose = setup(dokploy_server, deploy_duration_ms=0)
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    wait_for(lambda: idle_queue(dokploy_server) and rows(api, compose))
    listed = api.ok("GET", "deployment.allByType", id=compose["composeId"], type="compose")
    assert [r["deploymentId"] for r in listed] == [r["deploymentId"] for r in rows(api, compose)]


def test_deployments_of_unknown_compose_are_an_empty_list(api: Api) -> None:
    """Issue 15, row 1 (v0.30.2): 200 `[]`, not 404 - so a missing compose cannot be told from a new one here."""
    response = api.get("deployment.allByCompose", composeId="unknown")
    assert (response.status_code, response.json()) == (200, [])


def test_deployments_of_unknown_application_are_an_empty_list(api: Api) -> None:
    """Issue 15, row 2 (v0.30.2)."""
    response = api.get("deployment.all", applicationId="unknown")
    assert (response.status_code, response.json()) == (200, [])
