"""Deploy a compose and wait for the deployment *that call* started, with a deadline: the one deploy wait.

Every caller (ComposeDeployment, the stacks, scripts) goes through `deploy_and_wait`; do not fork it.

- **Which deployment.** `compose.deploy` only queues a job and answers `{success, message, composeId}`, no id; the
  worker later inserts a deployment row (`running`) and finishes it (`done` / `error` / `cancelled`), and Dokploy
  overwrites the title a caller passes when the run ends. So the run is found by the *set of ids*: the ids before
  the call, then the first id that was not there. `composeStatus` is not used (it shows the previous run's `done`
  right after the call). The title (`pulumi:<marker> run:<hash>`) only serves to recognise a run of ours still
  under way (an earlier `up` whose answer was lost or whose deadline passed), which is followed, not redeployed.
- **Polling.** One ramp across the whole wait (until the deployment appears, then until it ends): the first poll
  0.1 s after the call, then each interval x1.45 up to 6 s, every request of the wait (deployment list or queue)
  one tick of it. A deploy that ends within 1.2 s of the call is seen done within half a second (later ones within
  about 45 % of their time); a long one costs at most 19 requests in any minute, the first included (10 a minute
  once the ramp is over; an API key may be rate-limited). tests/dokploy/test_deploy_wait.py checks both, `make
  bench` measures both (bench/README.md).
- **The queue.** Dokploy runs one deploy at a time per server, in memory; one hung build blocks every later
  deploy while `compose.deploy` keeps answering 200. While no deployment has started, `deployment.queueList`
  (v0.30.x; skipped where it does not exist) says what is ahead, read instead of the deployment list at most every
  `QUEUE_EVERY` seconds; at the deadline the error names it.
- **A vanished deployment.** The queue lives in Dokploy's memory: a restart loses the jobs waiting in it and cancels
  the running one (`initCancelDeployments`). When a queue read lists no job of this compose (waiting or active) and
  the deployment list read after it still shows no new deployment, the job is gone; it is deployed again once
  (`REDEPLOYS`), then the wait stops with one line. Not after a lost `compose.deploy` answer (that deploy may still
  be arriving). A deployment that ends `cancelled` fails with a line saying a restart does that.
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
from collections.abc import Callable
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
ENV_POLL = "DOKPLOY_DEPLOY_POLL_SECONDS"  # first poll interval (default 0.1 s; grows x1.45 up to MAX_INTERVAL)
ENV_GRACE = "DOKPLOY_DEPLOY_APPEAR_GRACE_SECONDS"  # how long a lost deploy answer may take to show a deployment
FIRST_INTERVAL = 0.1
GROWTH = 1.45  # intervals <= 0.5 s until 1.2 s after the call; the ramp reaches the cap after ~13 s and 12 polls
MAX_INTERVAL = 6.0  # 10 polls a minute on a long deploy once the ramp is over; 19 in the first minute
QUEUE_AFTER = 2.0  # seconds without a new deployment before the queue is read (a short wait costs no extra call)
QUEUE_EVERY = 10.0  # at most one queue read per this many seconds (it takes the place of a deployment-list poll)
REPORT_EVERY = 10.0
REDEPLOYS = 1  # deploys sent again in one wait after the queue lost the job (a Dokploy restart)
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
    why = " (in the Dokploy UI, or by a Dokploy restart while it ran)" if status == "cancelled" else ""
    return DeploymentFailedError(
        f"deployment {row['deploymentId']} of compose {compose_id} ended with status '{status}'{why}; "
        f"{log_hint(row)}{extra}. The compose is saved; fix the cause and run `pulumi up` again to deploy again.",
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

    def ramp(self) -> Ramp:
        return Ramp(self)


class Ramp:
    """The one poll schedule of a wait: `first_interval`, then x GROWTH per poll up to `max_interval`."""

    def __init__(self, w: Waiter) -> None:
        self.w = w
        self.interval = w.first_interval

    def next(self, until: float) -> bool:
        """Sleep to the next poll (never past `until`); False once `until` has passed."""
        remaining = until - self.w.clock()
        if remaining <= 0:
            return False
        self.w.sleep(min(self.interval, remaining))
        self.interval = min(self.interval * GROWTH, self.w.max_interval)
        return True


@dataclass
class QueueView:
    """Where our job stands in Dokploy's deploy queue (`deployment.queueList`)."""

    position: int | None  # jobs ahead of ours (running ones included); None when ours is not listed
    ahead: list[str]
    listed: bool = True  # some job of this compose is in the queue, waiting or running

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
    listed = any((j.get("data") or {}).get("composeId") == compose_id for j in jobs)
    return QueueView(position=len(ahead) if ours else None, ahead=labels, listed=listed)


class _Wait:
    """One wait: the deadline, the progress reporter, and whether this server has `deployment.queueList`."""

    def __init__(self, c: DokployClient, compose_id: str, timeout: float, w: Waiter, report: Report) -> None:
        self.c, self.compose_id, self.timeout, self.w, self.report = c, compose_id, timeout, w, report
        self.started = w.clock()
        self.deadline = self.started + timeout
        self.queue_supported = True
        self.queue: QueueView | None = None  # the last queue read since our latest compose.deploy
        self.redeploys = 0
        self.title = ""
        self.queue_read_at = -QUEUE_EVERY
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

    def queue_due(self) -> bool:
        """Whether this poll reads the queue instead of the deployment list (waiting long, not read lately)."""
        now = self.w.clock()
        if not self.queue_supported or self.elapsed() < QUEUE_AFTER or now - self.queue_read_at < QUEUE_EVERY:
            return False
        self.queue_read_at = now
        return True

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
    wait.title = deploy_title(marker, run_hash)
    rows = deployments(c, compose_id)
    newest = rows[0] if rows else None
    if newest and newest.get("title") == wait.title and newest.get("status") in ("running", "done"):
        return _until_done(wait, row=newest)  # an earlier attempt of this very run (its title is intact until it ends)
    before = {str(r["deploymentId"]) for r in rows}
    lost = _send(wait)
    return _until_done(wait, before=before, appear_by=_appear_by(wait, lost), lost=lost)


def _send(wait: _Wait) -> bool:
    """`compose.deploy` once; True when its answer was lost (it may or may not have been queued)."""
    wait.queue = None  # what the queue said before this call says nothing about the job it queues
    try:
        wait.c.mutate("compose.deploy", {"composeId": wait.compose_id, "title": wait.title}, repeat_safe=False)
    except UncertainWriteError:
        return True
    return False


def _appear_by(wait: _Wait, lost: bool) -> float:
    return min(wait.deadline, wait.w.clock() + wait.w.appear_grace) if lost else wait.deadline


def _vanished(wait: _Wait) -> DokployError:
    return DeploymentFailedError(
        f"compose {wait.compose_id}: the deploy vanished from Dokploy's queue before it started, "
        f"{wait.redeploys + 1} time(s) (Dokploy restarted?); the compose is saved: run `pulumi up` again to deploy",
        deployment_id="",
        status="vanished",
        log_path=None,
    )


def _until_done(
    wait: _Wait, *, row: Row | None = None, before: set[str] | None = None, appear_by: float = 0, lost: bool = False
) -> Row:
    """Both phases on one ramp: until the first deployment whose id was not in `before` appears (never found by
    title), then until it ends; the poll that finds it also gives its status. A job the queue lost (listed by no
    queue read, and no deployment in the list read after it) is deployed again, `REDEPLOYS` times."""
    ramp = wait.w.ramp()
    while True:
        if row is not None:
            status = str(row.get("status"))
            if status == "done":
                return row
            if status in TERMINAL:
                raise failure(row, wait.compose_id)
            wait.say(str(row["deploymentId"]), status, "0 (running)")
        if not ramp.next(appear_by if row is None else wait.deadline):
            break
        if row is None and wait.queue_due():
            wait.read_queue()
            wait.say(None, "queued", wait.queued_position())
            continue
        rows = wait.rows()
        if rows is None:
            continue
        if row is None:
            new = [r for r in rows if str(r["deploymentId"]) not in (before or set())]
            if not new and not lost and wait.queue is not None and not wait.queue.listed:
                if wait.redeploys >= REDEPLOYS:
                    raise _vanished(wait)
                wait.redeploys += 1
                wait.report(
                    f"compose {wait.compose_id}: the deploy vanished from Dokploy's queue before it started "
                    "(Dokploy restarted?); deploying again"
                )
                before = {str(r["deploymentId"]) for r in rows}
                lost = _send(wait)
                appear_by = _appear_by(wait, lost)
                continue
            if not new:
                wait.say(None, "queued", wait.queued_position())
                continue
            row = new[-1]  # the oldest new one: the first to start after our call
            continue
        dep_id = str(row["deploymentId"])
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
    if row is None:
        raise _not_started(wait, lost)
    error = f"; last error while polling: {wait.last_error}" if wait.last_error else ""
    raise DeploymentTimeoutError(
        f"deployment {row['deploymentId']} of compose {wait.compose_id} is still '{row.get('status')}' after "
        f"{wait.timeout:.0f} s (the deadline); {log_hint(row)}. Run `pulumi up` again to keep waiting for it, or raise "
        f"the stack config `financeReport:deployTimeoutSeconds`{error}.",
        deployment_id=str(row["deploymentId"]),
        status=str(row.get("status")),
        log_path=row.get("logPath"),
    )


def _not_started(wait: _Wait, lost: bool) -> DokployError:
    if lost:
        return UncertainWriteError(
            f"compose.deploy for compose {wait.compose_id}: the answer was lost and no deployment appeared within "
            f"{wait.w.appear_grace:.0f} s; it was not sent again (a deploy is never repeated blindly). Run "
            "`pulumi up` again: it follows that deployment if it shows up, or deploys.",
            procedure="compose.deploy",
        )
    # The job stays queued and Dokploy still runs it; a later `up` cannot see a job that has not started, so it
    # deploys once more. The advice says so rather than promising that `up` picks the wait up again.
    if wait.queue is not None and wait.queue.ahead:
        where = wait.queue.describe()
        advice = (
            "Dokploy runs one deploy at a time per server and still runs this one when its turn comes; on a busy "
            "server raise the stack config `financeReport:deployTimeoutSeconds`; if a build ahead is hung, cancel it "
            "in the Dokploy UI (a restart of Dokploy drops the queue). A `pulumi up` now queues one more deploy"
        )
    else:
        where = "the queue could not be read" if wait.queue is None else wait.queue.describe()
        advice = (
            "Dokploy runs builds one at a time per server and still runs this one; raise the stack config "
            "`financeReport:deployTimeoutSeconds` to wait longer. A `pulumi up` now queues one more deploy"
        )
    error = f"; last error while polling: {wait.last_error}" if wait.last_error else ""
    return DeploymentTimeoutError(
        f"compose {wait.compose_id}: deploy queued but not started within {wait.timeout:.0f} s (the deadline); "
        f"{where}. {advice}{error}",
        deployment_id="",
        status="queued",
        log_path=None,
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
