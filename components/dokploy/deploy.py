"""Deploy a compose and wait for the deployment *that call* started, with a deadline: the one deploy wait.

Every caller (ComposeDeployment, the stacks, scripts) goes through `deploy_and_wait`; do not fork it.

- **Which deployment.** `compose.deploy` only queues a job and answers `{success, message, composeId}`, no id; the
  worker later inserts a deployment row (`running`) and finishes it (`done` / `error` / `cancelled`), and Dokploy
  overwrites the title a caller passes when the run ends. So the run is found by the *set of ids*: the ids before
  the call, then the first id that was not there. `composeStatus` is not used (it shows the previous run's `done`
  right after the call). The title (`pulumi:<marker> run:<hash>`) only serves to recognise a run of ours still
  under way (an earlier `up` whose answer was lost or whose deadline passed), which is followed, not redeployed.
- **Polling.** First after 0.1 s, then each interval x1.5 up to 5 s: a short deploy is seen done within half a
  second of finishing, a long one costs 12 polls a minute once the ramp is over (20 with the former 3 s cap; an
  API key may be rate-limited). The first minute holds two ramps (until the deployment appears, then until it
  ends): 27 polls in tests/dokploy/test_deploy_wait.py's 1 s start. `make bench` measures both (bench/README.md).
- **The queue.** Dokploy runs one deploy at a time per server, in memory; one hung build blocks every later
  deploy while `compose.deploy` keeps answering 200. While no deployment has started, `deployment.queueList`
  (v0.30.x; skipped where it does not exist) says what is ahead; at the deadline the error names it.
- **Errors.** 5xx and network errors while polling are retried until the deadline. A bare 401 for a key that
  worked earlier in this run (the client's `DokployKeyExhaustedError`) is retried for `AUTH_RETRY_SECONDS` of
  consecutive 401s (a restarting auth layer answers a short burst of them in the middle of a long wait), then
  stops with the client's one line naming the key; any other 401 stops at once.
- **Progress** (deployment id, status, elapsed time, queue position) goes to Pulumi's log (`progress.info`) when it
  changes and at least every `REPORT_EVERY` seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from components.dokploy import progress
from components.dokploy.client import DokployClient
from components.dokploy.errors import (
    DeploymentFailedError,
    DeploymentTimeoutError,
    DokployAuthError,
    DokployError,
    DokployHTTPError,
    DokployKeyExhaustedError,
    DokployNotFoundError,
    DokployServerError,
    DokployTransportError,
    UncertainWriteError,
)
from components.dokploy.markers import deploy_title

TERMINAL = frozenset({"done", "error", "cancelled"})
DEFAULT_TIMEOUT_SECONDS = 15 * 60
ENV_POLL = "DOKPLOY_DEPLOY_POLL_SECONDS"  # first poll interval (default 0.1 s; grows x1.5 up to MAX_INTERVAL)
ENV_GRACE = "DOKPLOY_DEPLOY_APPEAR_GRACE_SECONDS"  # how long a lost deploy answer may take to show a deployment
FIRST_INTERVAL = 0.1
GROWTH = 1.5
MAX_INTERVAL = 5.0  # 12 polls a minute on a long deploy once the ramp is over
QUEUE_AFTER = 2.0  # seconds without a new deployment before the queue is read (a short wait costs no extra call)
REPORT_EVERY = 10.0
AUTH_RETRY_SECONDS = 30.0  # consecutive bare 401s while polling before the key is taken as gone

Row = dict[str, Any]
Report = Callable[[str], None]
TRANSIENT = (DokployTransportError, DokployServerError)


def deployments(c: DokployClient, compose_id: str) -> list[Row]:
    rows = [dict(r) for r in c.query("deployment.allByCompose", composeId=compose_id) or []]
    return sorted(rows, key=lambda r: str(r.get("createdAt") or ""), reverse=True)


def log_hint(row: Row) -> str:
    path = row.get("logPath")
    where = f"{path} on the Dokploy server" if path else "no log path recorded"
    return f"log: {where} (also in the Dokploy UI, compose > Deployments)"


def failure(row: Row, compose_id: str) -> DeploymentFailedError:
    status = str(row.get("status"))
    extra = f"; error: {row['errorMessage']}" if row.get("errorMessage") else ""
    return DeploymentFailedError(
        f"deployment {row['deploymentId']} of compose {compose_id} ended with status '{status}'; {log_hint(row)}"
        f"{extra}. The compose is saved; fix the cause and run `pulumi up` again to deploy again.",
        deployment_id=str(row["deploymentId"]),
        status=status,
        log_path=row.get("logPath"),
    )


class Waiter:
    """Clock, sleep and poll schedule, swappable in tests."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        first_interval: float | None = None,
        appear_grace: float | None = None,
        max_interval: float = MAX_INTERVAL,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.first_interval = first_interval or float(os.environ.get(ENV_POLL) or FIRST_INTERVAL)
        self.appear_grace = appear_grace if appear_grace is not None else float(os.environ.get(ENV_GRACE) or 60.0)
        self.max_interval = max(max_interval, self.first_interval)

    def polls(self, until: float) -> Iterator[None]:
        """Yield at each poll time before `until`: 0.1 s, then x1.5 per poll, capped at `max_interval`."""
        interval = self.first_interval
        while True:
            remaining = until - self.clock()
            if remaining <= 0:
                return
            self.sleep(min(interval, remaining))
            interval = min(interval * GROWTH, self.max_interval)
            yield


@dataclass
class QueueView:
    """Where our job stands in Dokploy's deploy queue (`deployment.queueList`)."""

    position: int | None  # jobs ahead of ours (running ones included); None when ours is not listed
    ahead: list[str]

    def describe(self) -> str:
        if not self.ahead:
            return "nothing ahead of it in Dokploy's deploy queue"
        shown = "; ".join(self.ahead[:3]) + (f"; {len(self.ahead) - 3} more" if len(self.ahead) > 3 else "")
        return f"{len(self.ahead)} ahead of it in Dokploy's deploy queue: {shown}"


def _job_label(job: Row, now_ms: float) -> str:
    data = job.get("data") or {}
    service = data.get("composeId") or data.get("applicationId") or job.get("servicePath") or "?"
    kind = "compose" if data.get("composeId") else "service"
    title = data.get("titleLog")
    since = job.get("processedOn") or job.get("timestamp")
    age = f", {job.get('state')} for {max(0, (now_ms - since) / 1000):.0f} s" if since else f", {job.get('state')}"
    return f"{kind} {service}{f' {title!r}' if title else ''}{age}"


def queue_view(jobs: list[Row], compose_id: str, now_ms: float) -> QueueView:
    """The jobs ahead of this compose's newest waiting job: every active one and the waiting ones queued earlier."""
    mine = [j for j in jobs if (j.get("data") or {}).get("composeId") == compose_id and j.get("state") == "waiting"]
    ours = max(mine, key=lambda j: j.get("timestamp") or 0) if mine else None
    cutoff = (ours.get("timestamp") or 0) if ours else None
    ahead = [
        j
        for j in sorted(jobs, key=lambda j: j.get("timestamp") or 0)
        if j is not ours
        and (
            j.get("state") == "active"
            or (j.get("state") == "waiting" and (cutoff is None or (j.get("timestamp") or 0) < cutoff))
        )
    ]
    labels = [_job_label(j, now_ms) for j in ahead]
    return QueueView(position=len(ahead) if ours else None, ahead=labels)


class _Wait:
    """One wait: the deadline, the progress reporter, and whether this server has `deployment.queueList`."""

    def __init__(self, c: DokployClient, compose_id: str, timeout: float, w: Waiter, report: Report) -> None:
        self.c, self.compose_id, self.timeout, self.w, self.report = c, compose_id, timeout, w, report
        self.started = w.clock()
        self.deadline = self.started + timeout
        self.queue_supported = True
        self.queue: QueueView | None = None
        self.last_error: str | None = None
        self.unauthorized_since: float | None = None  # first of the current run of bare 401s
        self._reported: tuple[Any, ...] | None = None
        self._reported_at = -REPORT_EVERY

    def elapsed(self) -> float:
        return self.w.clock() - self.started

    def say(self, deployment_id: str | None, status: str, position: str) -> None:
        key = (deployment_id, status, position)
        now = self.w.clock()
        if key == self._reported and now - self._reported_at < REPORT_EVERY:
            return
        self._reported, self._reported_at = key, now
        who = f"deployment {deployment_id}" if deployment_id else "deployment not started yet"
        self.report(
            f"compose {self.compose_id}: {who}, status {status}, {self.elapsed():.0f} s elapsed, "
            f"queue position {position}"
        )

    def rows(self) -> list[Row] | None:
        """The compose's deployments, or None after a transient error (retried at the next poll)."""
        try:
            found = deployments(self.c, self.compose_id)
        except TRANSIENT as exc:
            self.last_error = str(exc)
            return None
        except DokployKeyExhaustedError as exc:
            now = self.w.clock()
            self.unauthorized_since = now if self.unauthorized_since is None else self.unauthorized_since
            if now - self.unauthorized_since >= AUTH_RETRY_SECONDS:
                raise  # persistent: the key is revoked or rate-limited
            self.last_error = str(exc)
            return None
        self.unauthorized_since = None
        return found

    def read_queue(self) -> None:
        if not self.queue_supported or self.elapsed() < QUEUE_AFTER:
            return
        try:
            jobs = self.c.query("deployment.queueList") or []
        except DokployNotFoundError:
            self.queue_supported = False  # before v0.30: no queue listing
            return
        except DokployAuthError as exc:
            if exc.code is None:
                raise  # the key itself stopped working: stop here
            self.queue_supported = False  # the key's user may not read the queue (a member)
            return
        except TRANSIENT as exc:
            self.last_error = str(exc)
            return
        self.queue = queue_view([dict(j) for j in jobs if isinstance(j, dict)], self.compose_id, time.time() * 1000)

    def queued_position(self) -> str:
        if self.queue is None or self.queue.position is None:
            return "unknown" if not self.queue_supported or self.queue is None else "not listed"
        return str(self.queue.position)


def deploy_and_wait(
    c: DokployClient,
    compose_id: str,
    *,
    marker: str,
    run_hash: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    waiter: Waiter | None = None,
    report: Report | None = None,
) -> Row:
    """Deploy (or follow this run's deployment already under way) and return its row once `done`."""
    wait = _Wait(c, compose_id, timeout_seconds, waiter or Waiter(), report or progress.info)
    title = deploy_title(marker, run_hash)
    rows = deployments(c, compose_id)
    newest = rows[0] if rows else None
    if newest and newest.get("title") == title and newest.get("status") in ("running", "done"):
        row = newest  # an earlier attempt of this very run (its title is intact until the run ends)
    else:
        before = {str(r["deploymentId"]) for r in rows}
        lost = False
        try:
            c.mutate("compose.deploy", {"composeId": compose_id, "title": title}, repeat_safe=False)
        except UncertainWriteError:
            lost = True
        appear_by = min(wait.deadline, wait.w.clock() + wait.w.appear_grace) if lost else wait.deadline
        found = _first_new(wait, before, appear_by)
        if found is None:
            raise _not_started(wait, lost)
        row = found
    return _wait_terminal(wait, row)


def _first_new(wait: _Wait, before: set[str], until: float) -> Row | None:
    """The first deployment whose id was not there before the deploy call (never found by title)."""
    for _ in _polls(wait.w, until, queued=True):
        rows = wait.rows()
        new = [r for r in rows or [] if str(r["deploymentId"]) not in before]
        if new:
            return new[-1]  # the oldest new one: the first to start after our call
        if rows is not None:
            wait.read_queue()
        wait.say(None, "queued", wait.queued_position())
    return None


def _polls(w: Waiter, until: float, *, queued: bool = False) -> Iterator[None]:
    yield  # look once right away
    if queued:  # two reads per poll once the queue is read: half the rate
        w = Waiter(w.clock, w.sleep, w.first_interval, w.appear_grace, max_interval=2 * w.max_interval)
    yield from w.polls(until)


def _not_started(wait: _Wait, lost: bool) -> DokployError:
    if lost:
        return UncertainWriteError(
            f"compose.deploy for compose {wait.compose_id}: the answer was lost and no deployment appeared within "
            f"{wait.w.appear_grace:.0f} s; it was not sent again (a deploy is never repeated blindly). Run "
            "`pulumi up` again: it follows that deployment if it shows up, or deploys.",
            procedure="compose.deploy",
        )
    if wait.queue is not None and wait.queue.ahead:
        where = wait.queue.describe()
        advice = (
            "Dokploy runs one deploy at a time per server, so a hung build blocks every later one: cancel or finish "
            "it in the Dokploy UI (a restart of Dokploy drops the queue), then run `pulumi up` again"
        )
    else:
        where = "the queue could not be read" if wait.queue is None else wait.queue.describe()
        advice = "Dokploy runs builds one at a time per server; run `pulumi up` again to keep waiting"
    error = f"; last error while polling: {wait.last_error}" if wait.last_error else ""
    return DeploymentTimeoutError(
        f"compose {wait.compose_id}: deploy queued but not started within {wait.timeout:.0f} s (the deadline); "
        f"{where}. {advice}{error}",
        deployment_id="",
        status="queued",
        log_path=None,
    )


def _wait_terminal(wait: _Wait, row: Row) -> Row:
    dep_id = str(row["deploymentId"])
    for _ in _polls(wait.w, wait.deadline):
        rows = wait.rows()
        if rows is None:
            continue
        current = next((r for r in rows if str(r["deploymentId"]) == dep_id), None)
        if current is None:
            _compose_still_there(wait)
            raise DokployNotFoundError(
                f"deployment {dep_id} of compose {wait.compose_id} disappeared while waiting (Dokploy keeps the "
                "newest 10)",
                procedure="deployment.allByCompose",
                status=404,
            )
        row = current
        status = str(row.get("status"))
        if status == "done":
            return row
        if status in TERMINAL:
            raise failure(row, wait.compose_id)
        wait.say(dep_id, status, "0 (running)")
    error = f"; last error while polling: {wait.last_error}" if wait.last_error else ""
    raise DeploymentTimeoutError(
        f"deployment {dep_id} of compose {wait.compose_id} is still '{row.get('status')}' after {wait.timeout:.0f} s "
        f"(the deadline); {log_hint(row)}. Run `pulumi up` again to keep waiting for it, or raise "
        f"the stack config `financeReport:deployTimeoutSeconds`{error}.",
        deployment_id=dep_id,
        status=str(row.get("status")),
        log_path=row.get("logPath"),
    )


def _compose_still_there(wait: _Wait) -> None:
    """`deployment.allByCompose` answers `[]` for an unknown compose (v0.30.2): ask `compose.one`, which 404s."""
    try:
        wait.c.query("compose.one", composeId=wait.compose_id)
    except DokployHTTPError as exc:
        if isinstance(exc, DokployNotFoundError):
            raise DokployNotFoundError(
                f"compose {wait.compose_id} was deleted while its deployment was awaited",
                procedure="compose.one",
                status=404,
            ) from None
        raise
