"""Deploy correlation and the deadline, on a scripted fake (a fake clock: no real waiting)."""

from __future__ import annotations

from typing import Any

import pytest

from components.dokploy.deploy import Waiter, deploy_and_wait
from components.dokploy.errors import DeploymentFailedError, DeploymentTimeoutError, UncertainWriteError
from components.dokploy.markers import deploy_title

MARKER, RUN = "abcdef012345", "f" * 64
TITLE = deploy_title(MARKER, RUN)


class FakeDokploy:
    """Deployments newest first; `compose.deploy` starts a job after `start_delay` and ends after `duration`."""

    def __init__(self, *, start_delay: float = 2, duration: float = 5, outcome: str = "done") -> None:
        self.now = 0.0
        self.rows: list[dict[str, Any]] = []
        self.jobs: list[tuple[float, str]] = []
        self.deploys = 0
        self.start_delay, self.duration, self.outcome = start_delay, duration, outcome
        self.lose_answer = False

    def waiter(self) -> Waiter:
        def sleep(s: float) -> None:
            self.now += s

        return Waiter(clock=lambda: self.now, sleep=sleep, first_interval=1.0, appear_grace=10.0)

    def add(self, dep_id: str, title: str, status: str, at: float) -> None:
        self.rows.append(
            {"deploymentId": dep_id, "title": title, "status": status, "logPath": f"/logs/{dep_id}.log",
             "createdAt": f"{at:010.3f}", "started": at}
        )  # fmt: skip

    def _advance(self) -> None:
        for when, title in list(self.jobs):
            if self.now >= when:
                self.jobs.remove((when, title))
                self.add(f"d{len(self.rows) + 1}", title, "running", when)
        for r in self.rows:
            if r["status"] == "running" and self.now >= r["started"] + self.duration:
                r["status"] = self.outcome

    def query(self, procedure: str, **params: Any) -> Any:
        self._advance()
        if procedure == "deployment.allByCompose":
            return sorted(self.rows, key=lambda r: r["createdAt"], reverse=True)
        if procedure == "compose.one":
            return {"composeId": params["composeId"]}
        raise AssertionError(procedure)

    def mutate(self, procedure: str, body: dict[str, Any], *, repeat_safe: bool) -> Any:
        assert procedure == "compose.deploy" and not repeat_safe
        self.deploys += 1
        self.jobs.append((self.now + self.start_delay, body["title"]))
        if self.lose_answer:
            raise UncertainWriteError("lost", procedure=procedure)
        return {"success": True, "message": "Deployment queued", "composeId": body["composeId"]}


def run(fake: FakeDokploy, timeout: float = 900) -> dict[str, Any]:
    return deploy_and_wait(fake, "c1", marker=MARKER, run_hash=RUN, timeout_seconds=timeout, waiter=fake.waiter())  # type: ignore[arg-type]


def test_follows_the_new_deployment_by_id_not_the_old_done_status() -> None:
    fake = FakeDokploy()
    fake.add("old", "earlier", "done", -100)  # composeStatus would still say done right after the call
    row = run(fake)
    assert row["deploymentId"] == "d2" and row["status"] == "done" and fake.deploys == 1


def test_failure_reports_id_status_and_log_location() -> None:
    fake = FakeDokploy(outcome="error")
    with pytest.raises(DeploymentFailedError) as info:
        run(fake)
    err = info.value
    assert (err.deployment_id, err.deployment_status, err.log_path) == ("d1", "error", "/logs/d1.log")
    assert "d1" in str(err) and "'error'" in str(err) and "/logs/d1.log" in str(err) and "pulumi up" in str(err)


def test_deadline_reports_the_running_deployment() -> None:
    fake = FakeDokploy(duration=10_000)
    with pytest.raises(DeploymentTimeoutError) as info:
        run(fake, timeout=60)
    assert info.value.deployment_id == "d1" and info.value.deployment_status == "running"
    assert 60 <= fake.now < 61 and "/logs/d1.log" in str(info.value)


def test_a_queued_deploy_that_never_starts_times_out_clearly() -> None:
    fake = FakeDokploy(start_delay=10_000)
    with pytest.raises(DeploymentTimeoutError, match="no deployment started within 30 s"):
        run(fake, timeout=30)


def test_a_run_already_under_way_is_followed_not_deployed_again() -> None:
    fake = FakeDokploy()
    fake.add("prev", TITLE, "running", -1)  # an earlier `up` whose deadline passed, or whose answer was lost
    row = run(fake)
    assert row["deploymentId"] == "prev" and row["status"] == "done" and fake.deploys == 0


def test_the_same_run_already_done_and_newest_is_not_deployed_again() -> None:
    fake = FakeDokploy()
    fake.add("prev", TITLE, "done", -1)
    assert run(fake)["deploymentId"] == "prev" and fake.deploys == 0


def test_the_same_run_that_failed_is_deployed_again() -> None:
    fake = FakeDokploy()
    fake.add("prev", TITLE, "error", -1)
    assert run(fake)["deploymentId"] == "d2" and fake.deploys == 1


def test_a_lost_answer_is_followed_when_the_deployment_appears() -> None:
    fake = FakeDokploy()
    fake.lose_answer = True
    assert run(fake)["deploymentId"] == "d1" and fake.deploys == 1


def test_a_lost_answer_with_no_deployment_is_not_repeated() -> None:
    fake = FakeDokploy(start_delay=10_000)
    fake.lose_answer = True
    with pytest.raises(UncertainWriteError, match="not sent again"):
        run(fake)
    assert fake.deploys == 1 and fake.now <= 11
