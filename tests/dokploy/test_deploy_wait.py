"""The deploy wait (components/dokploy/deploy.py) on a scripted fake with a fake clock: no real waiting.

The fake behaves as Dokploy v0.30: `compose.deploy` answers without an id, the job waits in a queue, the run's row
appears when it starts, and its title is overwritten when it ends.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.dokploy.deploy import AUTH_RETRY_SECONDS, MAX_INTERVAL, Waiter, deploy_and_wait, queue_view
from components.dokploy.errors import (
    DeploymentFailedError,
    DeploymentTimeoutError,
    DokployKeyExhaustedError,
    DokployNotFoundError,
    DokployServerError,
    UncertainWriteError,
)
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
        self.blocker: dict[str, Any] | None = None  # another compose's job, active in the queue
        self.has_queue_list = True
        self.polls: list[float] = []  # when deployment.allByCompose was read
        self.requests: list[float] = []  # when any read of the wait was made (deployment list, queue, compose)
        self.fail_polls: set[int] = set()  # poll numbers answered with a 502
        self.unauthorized_from: int | None = None  # from this poll on: a bare 401 (the key's rate limit)
        self.unauthorized_polls: set[int] = set()  # poll numbers answered with a bare 401 (a burst)
        self.reports: list[str] = []
        self.restarts: list[float] = []  # when the server restarts: queued jobs lost, running ones cancelled

    def waiter(self, first: float = 0.1) -> Waiter:
        def sleep(s: float) -> None:
            self.now += s

        return Waiter(clock=lambda: self.now, sleep=sleep, first_interval=first, appear_grace=10.0)

    def add(self, dep_id: str, title: str, status: str, at: float) -> None:
        self.rows.append(
            {"deploymentId": dep_id, "title": title, "status": status, "logPath": f"/logs/{dep_id}.log",
             "createdAt": f"{at:010.3f}", "started": at}
        )  # fmt: skip

    def _advance(self) -> None:
        while self.restarts and self.now >= self.restarts[0]:
            self.restarts.pop(0)
            self.jobs.clear()
            for r in self.rows:
                r["status"] = "cancelled" if r["status"] == "running" else r["status"]
        for when, title in list(self.jobs):
            if self.now >= when:
                self.jobs.remove((when, title))
                self.add(f"d{len(self.rows) + 1}", title, "running", when)
        for r in self.rows:
            if r["status"] == "running" and self.now >= r["started"] + self.duration:
                r["status"], r["title"] = self.outcome, "Manual deployment"  # Dokploy overwrites the title

    def query(self, procedure: str, **params: Any) -> Any:
        self._advance()
        self.requests.append(self.now)
        if procedure == "deployment.allByCompose":
            self.polls.append(self.now)
            n = len(self.polls)
            if n in self.unauthorized_polls or (self.unauthorized_from is not None and n >= self.unauthorized_from):
                raise DokployKeyExhaustedError("401 after a success: 10 requests per 24 hours", procedure=procedure,
                                               status=401)  # fmt: skip
            if n in self.fail_polls:
                raise DokployServerError("Dokploy deployment.allByCompose: HTTP 502", procedure=procedure, status=502)
            return sorted(self.rows, key=lambda r: r["createdAt"], reverse=True)
        if procedure == "deployment.queueList":
            if not self.has_queue_list:
                raise DokployNotFoundError("404 Not found", procedure=procedure, status=404)
            waiting = [{"id": str(i), "state": "waiting", "timestamp": 10_000 + i,
                        "data": {"composeId": "c1", "titleLog": t}} for i, (_, t) in enumerate(self.jobs)]  # fmt: skip
            return ([self.blocker] if self.blocker else []) + waiting
        if procedure == "compose.one":
            return {"composeId": params["composeId"]}
        raise AssertionError(procedure)

    def mutate(self, procedure: str, body: dict[str, Any], *, repeat_safe: bool) -> Any:
        assert procedure == "compose.deploy" and not repeat_safe and "freshVolumes" not in body
        self.deploys += 1
        self.jobs.append((self.now + self.start_delay, body["title"]))
        if self.lose_answer:
            raise UncertainWriteError("lost", procedure=procedure)
        return {"success": True, "message": "Deployment queued", "composeId": body["composeId"]}


def run(fake: FakeDokploy, timeout: float = 900, first: float = 0.1) -> dict[str, Any]:
    return deploy_and_wait(
        fake, "c1", marker=MARKER, run_hash=RUN, timeout_seconds=timeout, waiter=fake.waiter(first),  # type: ignore[arg-type]
        report=fake.reports.append,
    )  # fmt: skip


def test_follows_the_new_deployment_by_id_not_the_old_done_status() -> None:
    fake = FakeDokploy()
    fake.add("old", "earlier", "done", -100)  # composeStatus would still say done right after the call
    row = run(fake)
    assert row["deploymentId"] == "d2" and row["status"] == "done" and fake.deploys == 1


def test_the_new_deployment_is_found_by_its_id_even_when_another_title_shows() -> None:
    fake = FakeDokploy(start_delay=0.5, duration=0.2)
    fake.add("old", TITLE, "error", -100)  # an earlier failed run of ours, with our title
    fake.jobs = []
    row = run(fake)
    assert row["deploymentId"] == "d2" and row["title"] == "Manual deployment"  # overwritten: found by id


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


def busiest_minute(times: list[float]) -> int:
    """The most requests in any 60 s window (the first minute included)."""
    return max(sum(start <= t < start + 60 for t in times) for start in times)


@pytest.mark.parametrize("duration", [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 1.1])
def test_a_short_deploy_is_seen_done_within_half_a_second(duration: float) -> None:
    fake = FakeDokploy(start_delay=0.05, duration=duration)  # ends 0.1 s to 1.15 s after the call
    run(fake)
    assert fake.now - (0.05 + duration) <= 0.5


@pytest.mark.parametrize("start_delay", [0.05, 1, 5])
def test_a_long_deploy_makes_at_most_20_requests_in_any_minute_the_first_included(start_delay: float) -> None:
    fake = FakeDokploy(start_delay=start_delay, duration=600)
    run(fake)
    assert busiest_minute(fake.requests) <= 20
    assert fake.now - (start_delay + 600) <= MAX_INTERVAL  # and its end is still seen within one interval


def test_a_long_wait_in_the_queue_then_a_long_deploy_stays_within_20_requests_a_minute() -> None:
    fake = FakeDokploy(start_delay=90, duration=300)  # queue reads take the place of deployment-list polls
    fake.blocker = {"id": "9", "state": "active", "timestamp": 1, "data": {"composeId": "other", "titleLog": "x"}}
    run(fake)
    assert busiest_minute(fake.requests) <= 20 and len(fake.requests) > len(fake.polls)  # the queue was read
    assert fake.deploys == 1  # a job still waiting in the queue is not taken for a lost one


def test_progress_reports_id_status_elapsed_time_and_queue_position() -> None:
    fake = FakeDokploy(start_delay=30, duration=30)
    fake.blocker = {"id": "9", "state": "active", "timestamp": 1, "data": {"composeId": "other", "titleLog": "x"}}
    run(fake)
    queued = [r for r in fake.reports if "not started" in r]
    running = [r for r in fake.reports if "deployment d1" in r]
    assert queued and "status queued" in queued[-1] and "queue position 1" in queued[-1]
    assert running and "status running" in running[-1] and "elapsed" in running[-1]
    assert len(fake.reports) < 20  # on changes and every 10 s, not on every poll


def test_transient_errors_while_polling_are_retried_within_the_deadline() -> None:
    fake = FakeDokploy(start_delay=0.5, duration=3)
    fake.fail_polls = {2, 3, 6, 7}
    assert run(fake)["status"] == "done"


def test_a_persistent_401_after_a_success_stops_within_the_retry_bound() -> None:
    fake = FakeDokploy(start_delay=0.5, duration=600)
    fake.unauthorized_from = 8
    with pytest.raises(DokployKeyExhaustedError, match="10 requests per 24"):
        run(fake)
    first_401 = fake.polls[7]
    assert AUTH_RETRY_SECONDS <= fake.now - first_401 <= AUTH_RETRY_SECONDS + MAX_INTERVAL  # bounded, not the deadline
    assert len(fake.polls) - 8 <= AUTH_RETRY_SECONDS / 2  # a few polls, not a hammering


def test_a_short_burst_of_401s_in_a_long_deploy_wait_does_not_fail_the_up() -> None:
    fake = FakeDokploy(start_delay=0.5, duration=120)
    fake.unauthorized_polls = set(range(10, 14))  # 4 polls in a row, in the middle of the wait
    assert run(fake)["status"] == "done"
    assert fake.deploys == 1


def test_a_stuck_queue_names_what_is_ahead_at_the_deadline() -> None:
    fake = FakeDokploy(start_delay=10_000)
    fake.blocker = {"id": "7", "state": "active", "timestamp": 1, "processedOn": 1,
                    "data": {"composeId": "hung-build", "titleLog": "Manual deployment"}}  # fmt: skip
    with pytest.raises(DeploymentTimeoutError) as info:
        run(fake, timeout=120)
    text = str(info.value)
    assert "not started within 120 s" in text and "1 ahead" in text and "compose hung-build" in text
    assert "one deploy at a time" in text and "\n" not in text and 120 <= fake.now < 121
    # what the user can do, honestly: wait longer, or clear the hung build; another `up` is one more deploy
    assert "financeReport:deployTimeoutSeconds" in text and "queues one more deploy" in text


def test_a_queued_deploy_on_a_server_without_queue_list_times_out_clearly() -> None:
    fake = FakeDokploy(start_delay=10_000)
    fake.has_queue_list = False
    with pytest.raises(DeploymentTimeoutError, match=r"not started within 30 s.*could not be read"):
        run(fake, timeout=30)


def test_queue_view_counts_active_jobs_and_the_waiting_ones_queued_earlier() -> None:
    jobs = [
        {"id": "1", "state": "active", "timestamp": 1, "data": {"composeId": "a"}},
        {"id": "2", "state": "waiting", "timestamp": 2, "data": {"composeId": "b"}},
        {"id": "3", "state": "waiting", "timestamp": 3, "data": {"composeId": "c1"}},
        {"id": "4", "state": "waiting", "timestamp": 4, "data": {"composeId": "d"}},
    ]
    view = queue_view(jobs, "c1", now_ms=5000)
    assert view.position == 2 and [label.split(",")[0] for label in view.ahead] == ["compose a", "compose b"]


def test_a_run_already_under_way_is_followed_not_deployed_again() -> None:
    fake = FakeDokploy()
    fake.add("prev", TITLE, "running", -1)  # an earlier `up` whose deadline passed, or whose answer was lost
    row = run(fake)
    assert row["deploymentId"] == "prev" and row["status"] == "done" and fake.deploys == 0


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


def test_a_deploy_the_queue_lost_in_a_dokploy_restart_is_sent_again_once() -> None:
    fake = FakeDokploy(start_delay=20, duration=5)  # queued behind something else...
    fake.restarts = [1.0]  # ...when Dokploy restarts: the queue, in its memory, is gone
    row = run(fake)
    assert row["status"] == "done" and fake.deploys == 2
    assert any("vanished" in r and "deploying again" in r for r in fake.reports)
    assert fake.now < 1 + 12 + 20 + 5 + MAX_INTERVAL  # noticed at the next queue read, not at the deadline


def test_a_deploy_lost_again_after_its_redeploy_stops_with_one_line_long_before_the_deadline() -> None:
    fake = FakeDokploy(start_delay=100, duration=5)
    fake.restarts = [1.0, 15.0]
    with pytest.raises(DeploymentFailedError) as info:
        run(fake)
    text = str(info.value)
    assert "vanished from Dokploy's queue" in text and "Dokploy restarted?" in text and "pulumi up" in text
    assert "\n" not in text and fake.deploys == 2 and fake.now < 60


def test_a_lost_deploy_answer_is_not_sent_again_even_when_the_queue_does_not_list_it() -> None:
    fake = FakeDokploy(start_delay=10_000)
    fake.lose_answer = True
    fake.restarts = [0.5]
    with pytest.raises(UncertainWriteError, match="not sent again"):
        run(fake)
    assert fake.deploys == 1


def test_a_deployment_cancelled_by_a_dokploy_restart_fails_with_a_line_that_says_so() -> None:
    fake = FakeDokploy(start_delay=0.5, duration=30)
    fake.restarts = [5.0]  # while it runs: Dokploy marks it cancelled at its next start
    with pytest.raises(DeploymentFailedError) as info:
        run(fake)
    assert info.value.deployment_status == "cancelled" and "Dokploy restart" in str(info.value)
    assert "pulumi up" in str(info.value) and fake.deploys == 1
