"""Dokploy's sharp edges (issue 15), met by the provider against the imitation: the body limit, `freshVolumes`,
`Failed query` for a bad reference, a deploy without its domain, and the deployment found by id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from components.dokploy.client import BODY_LIMIT, ClientSettings, DokployClient
from components.dokploy.deploy import deploy_and_wait
from components.dokploy.errors import (
    DeploymentTimeoutError,
    DokployConfigError,
    DokployError,
    DokployReferenceError,
    DokployRequestTooLargeError,
)
from dokploy_local.testing import LocalDokploy
from tests.dokploy.test_providers import Stack, checked


def client(server: LocalDokploy) -> DokployClient:
    return DokployClient(ClientSettings(url=server.url, api_key=server.api_key))


def writes(server: LocalDokploy, procedure: str) -> list[dict[str, Any]]:
    return [e for e in server.requests() if e["procedure"] == procedure]


def test_a_body_over_the_limit_is_refused_before_sending_naming_the_field(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    cid, cins, couts = s.compose(eid)
    big = "services:\n  web:\n    image: nginx\n" + "# padding\n" * (BODY_LIMIT // 10)
    with pytest.raises(DokployRequestTooLargeError) as info:
        s.composes.update(cid, couts, {**cins, "compose_file": big})
    text = str(info.value)
    assert "composeFile" in text and "1 MB" in text and "\n" not in text
    assert [e for e in writes(dokploy, "compose.update") if len(str(e.get("input"))) > BODY_LIMIT] == []


def test_the_server_answers_413_above_the_limit_as_the_client_assumes(dokploy: LocalDokploy) -> None:
    with client(dokploy) as c:
        c.server_version()
        response = c._http.post("/project.create", content=b'{"name":"' + b"x" * BODY_LIMIT + b'"}',
                                headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413 and dokploy.count_objects()["projects"] == 0


def test_fresh_volumes_is_never_sent(dokploy: LocalDokploy) -> None:
    with client(dokploy) as c, pytest.raises(DokployConfigError, match="wipes the compose's volumes"):
        c.mutate("compose.deploy", {"composeId": "x", "freshVolumes": True}, repeat_safe=False)
    assert writes(dokploy, "compose.deploy") == []


def test_a_failed_query_for_a_bad_reference_stops_at_once_naming_the_field(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    cid, cins, couts = s.compose(eid)
    github = {"github_id": "no-such-github-app-01", "owner": "wangzitian0", "repository": "finance_report"}
    gins = checked(s.composes, {**cins, "compose_file": None, "github": github})
    dokploy.reset_stats()
    with pytest.raises(DokployReferenceError) as info:
        s.composes.update(cid, couts, gins)
    text = str(info.value)
    assert "githubId='no-such-github-app-01'" in text and "not retried" in text and "\n" not in text
    assert "params:" not in text  # drizzle's message (with the SQL parameters, env values too) is not repeated
    assert len(writes(dokploy, "compose.update")) == 1  # a deterministic error is not retried


def test_a_compose_is_not_deployed_before_its_domains_exist(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    cid, _, _ = s.compose(eid)
    did, _, _ = s.domain(cid)
    props = {"compose_id": cid, "run_hash": "1" * 64, "marker": "d" * 12, "domain_ids": [did, "not-there-yet"]}
    with pytest.raises(DokployError, match="not-there-yet"):
        s.deploys.create(checked(s.deploys, props))
    assert writes(dokploy, "compose.deploy") == []
    deployed = s.deploys.create(checked(s.deploys, {**props, "domain_ids": [did]}))
    assert deployed.outs["status"] == "done"


def test_the_deployment_is_found_by_id_although_dokploy_overwrites_its_title(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    cid, _, _ = s.compose(eid)
    first = s.deploys.create(checked(s.deploys, {"compose_id": cid, "run_hash": "1" * 64, "marker": "d" * 12}))
    second = s.deploys.create(checked(s.deploys, {"compose_id": cid, "run_hash": "2" * 64, "marker": "d" * 12}))
    with client(dokploy) as c:
        rows = c.query("deployment.allByCompose", composeId=cid)
    assert [r["title"] for r in rows] == ["Manual deployment", "Manual deployment"]  # no title of ours survived
    assert second.outs["deployment_id"] == rows[0]["deploymentId"] != first.outs["deployment_id"]
    sent = [e["input"] for e in writes(dokploy, "compose.deploy")]
    assert len(sent) == 2 and all("freshVolumes" not in body for body in sent)


def test_a_short_deploy_on_the_imitation_is_seen_done_within_half_a_second(
    dokploy: LocalDokploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default poll schedule, on a real clock: the imitation's deploy takes 300 ms (`deploy_duration_ms`)."""
    monkeypatch.delenv("DOKPLOY_DEPLOY_POLL_SECONDS", raising=False)
    dokploy.set_knobs(deploy_duration_ms=300)
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    cid, _, _ = s.compose(eid)
    with client(dokploy) as c:
        row = deploy_and_wait(c, cid, marker="d" * 12, run_hash="1" * 64, timeout_seconds=30, report=lambda _: None)
        seen = datetime.now(UTC)
    finished = datetime.fromisoformat(row["finishedAt"].replace("Z", "+00:00"))
    assert row["status"] == "done" and (seen - finished).total_seconds() <= 0.5


def test_a_deploy_stuck_behind_a_hung_build_names_it_at_the_deadline(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    cid, _, _ = s.compose(eid)
    hung, _, _ = s.compose(eid, marker="e" * 12)
    dokploy.set_knobs(deploy_duration_ms=60_000)
    with client(dokploy) as c:
        c.mutate("compose.deploy", {"composeId": hung}, repeat_safe=False)
        with pytest.raises(DeploymentTimeoutError) as info:
            deploy_and_wait(c, cid, marker="d" * 12, run_hash="1" * 64, timeout_seconds=3, report=lambda _: None)
    text = str(info.value)
    assert f"compose {hung}" in text and "1 ahead" in text and "\n" not in text
