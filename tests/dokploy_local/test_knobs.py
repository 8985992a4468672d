"""Every knob: off by default, and effective once set (at start or at runtime)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import httpx
import pytest

from dokploy_local.knobs import Knobs
from dokploy_local.schemas import check_response
from dokploy_local.testing import LocalDokploy, running_server
from tests.contract.api import Api, wait_for

DEFAULTS = asdict(Knobs())
NEUTRAL = {
    "latency_ms": 0,
    "latency_jitter_ms": 0,
    "spike_rate": 0,
    "error_rate": 0,
    "drop_rate": 0,
    "timeout_rate": 0,
    "commit_drop_rate": 0,
    "unauthorized_burst": 0,
    "throttle_burst": 0,
    "throttle_rps": 0,
    "fault_procedures": [],
    "deploy_outcome": "done",
    "deploy_paused": False,
    "registry_login_error": None,
}


@pytest.fixture
def knobbed(server: LocalDokploy) -> Iterator[LocalDokploy]:
    """The module's server, its knobs put back to the start values afterwards."""
    start = server.knobs()
    yield server
    server.set_knobs(**start)


_clients: dict[str, httpx.Client] = {}


def call(server: LocalDokploy, procedure: str = "project.all", timeout: float = 5) -> httpx.Response:
    """A GET through one kept-alive client per server (a fresh httpx client costs ~40 ms of TLS setup)."""
    if server.url not in _clients:
        _clients[server.url] = httpx.Client(headers={"x-api-key": server.api_key})
    return _clients[server.url].get(f"{server.url}/api/{procedure}", timeout=timeout)


@pytest.mark.parametrize("name", sorted(NEUTRAL))
def test_knob_is_off_by_default(name: str) -> None:
    assert DEFAULTS[name] == NEUTRAL[name]


def test_server_starts_with_knobs_off(server: LocalDokploy) -> None:
    knobs = server.knobs()
    assert {k: knobs[k] for k in NEUTRAL} == NEUTRAL


def test_no_faults_by_default(server: LocalDokploy) -> None:
    assert {call(server).status_code for _ in range(40)} == {200}


def test_knobs_can_be_set_at_start(tmp_path: Any) -> None:
    with running_server(tmp_path / "d", knobs={"error_rate": 1.0, "error_statuses": [503]}) as started:
        assert call(started).status_code == 503


def test_latency(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(latency_ms=300)
    started = time.monotonic()
    call(knobbed)
    assert time.monotonic() - started >= 0.3


def test_latency_spikes_delay_a_fraction_of_requests(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(spike_rate=0.5, spike_ms=200, seed=5)
    took = []
    for _ in range(16):
        started = time.monotonic()
        assert call(knobbed).status_code == 200  # a spike delays the answer, it does not change it
        took.append(time.monotonic() - started)
    spiked = sum(t >= 0.2 for t in took)
    assert 2 <= spiked <= 14


def test_error_rate_gives_trpc_500(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(error_rate=1.0, error_statuses=[500])
    response = call(knobbed)
    check_response("project.all", response.status_code, response.json())
    assert (response.status_code, response.json()["code"]) == (500, "INTERNAL_SERVER_ERROR")


def test_error_rate_gives_proxy_502(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(error_rate=1.0, error_statuses=[502])
    response = call(knobbed)
    assert (response.status_code, response.text) == (502, "Bad Gateway")


def test_error_rate_is_a_rate(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(error_rate=0.5, error_statuses=[503], seed=7)
    statuses = [call(knobbed).status_code for _ in range(60)]
    assert 10 < statuses.count(503) < 50


def test_seed_makes_faults_repeatable(knobbed: LocalDokploy) -> None:
    runs = []
    for _ in range(2):
        knobbed.set_knobs(error_rate=0.5, error_statuses=[503], seed=42)
        runs.append([call(knobbed).status_code for _ in range(20)])
    assert runs[0] == runs[1]


def test_drop_closes_without_answer(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        call(knobbed)


def test_timeout_gives_no_answer_in_time(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(timeout_rate=1.0, timeout_seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        call(knobbed, timeout=0.3)


def test_commit_then_drop_applies_the_change(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(commit_drop_rate=1.0)
    before = knobbed.count_objects()["projects"]
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{knobbed.url}/api/project.create", json={"name": "lost"}, headers={"x-api-key": knobbed.api_key})
    assert knobbed.count_objects()["projects"] == before + 1


def test_commit_then_drop_spares_queries(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(commit_drop_rate=1.0)
    assert call(knobbed).status_code == 200


def test_unauthorized_burst(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(unauthorized_burst=2)
    responses = [call(knobbed) for _ in range(3)]
    check_response("project.all", 401, responses[0].json())
    assert [r.status_code for r in responses] == [401, 401, 200]


def test_throttle_burst_answers_429_with_retry_after(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(throttle_burst=1, retry_after_seconds=3)
    first, second = call(knobbed), call(knobbed)
    assert (first.status_code, first.headers["retry-after"], second.status_code) == (429, "3", 200)


def test_throttle_rps_limits_rate(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(throttle_rps=2)
    statuses = [call(knobbed).status_code for _ in range(10)]
    assert statuses.count(429) >= 5


def test_fault_procedures_limit_faults(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(error_rate=1.0, error_statuses=[503], fault_procedures=["project.create"])
    assert (call(knobbed).status_code, Api.of(knobbed).post("project.create", name="x").status_code) == (200, 503)


def test_health_is_never_faulted(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(drop_rate=1.0)
    assert httpx.get(f"{knobbed.url}/api/health").status_code == 200


def test_unknown_knob_is_refused(server: LocalDokploy) -> None:
    response = httpx.post(f"{server.url}/__local/knobs", json={"nope": 1}, headers={"x-api-key": server.api_key})
    assert response.status_code == 400


def compose_status(api: Api, compose: dict[str, Any]) -> str:
    value: str = api.ok("GET", "compose.one", composeId=compose["composeId"])["composeStatus"]
    return value


def test_deploy_duration(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(deploy_duration_ms=600)
    api = Api.of(knobbed)
    _, compose = api.project_with_compose()
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    wait_for(lambda: compose_status(api, compose) == "running")
    time.sleep(0.3)
    assert compose_status(api, compose) == "running"


def test_deploy_outcome(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(deploy_outcome="error", deploy_duration_ms=0)
    api = Api.of(knobbed)
    _, compose = api.project_with_compose()
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    assert (
        wait_for(lambda: compose_status(api, compose) in ("done", "error") and compose_status(api, compose)) == "error"
    )


def test_deploy_paused_holds_queued_jobs_until_it_is_cleared(knobbed: LocalDokploy) -> None:
    knobbed.set_knobs(deploy_paused=True, deploy_duration_ms=0)
    api = Api.of(knobbed)
    _, compose = api.project_with_compose()
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    time.sleep(0.5)
    (job,) = [j for j in api.ok("GET", "deployment.queueList") if j["data"]["composeId"] == compose["composeId"]]
    assert job["state"] == "waiting" and compose_status(api, compose) != "done"
    knobbed.set_knobs(deploy_paused=False)
    assert wait_for(lambda: compose_status(api, compose) == "done")


def test_deploy_paused_must_be_a_boolean(server: LocalDokploy) -> None:
    response = httpx.post(
        f"{server.url}/__local/knobs", json={"deploy_paused": "yes"}, headers={"x-api-key": server.api_key}
    )
    assert response.status_code == 400 and "deploy_paused must be true or false" in response.text
