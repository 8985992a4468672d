"""Deployments as Dokploy >= v0.29.9 runs them: an in-memory queue per server, one job at a time.

`compose.deploy` only enqueues. When a job starts, the worker prunes old deployment rows, inserts a new row with status
`running` and sets the compose's `composeStatus` to `running`; until then the old status stays visible. After
`deploy_duration_ms` both become the `deploy_outcome` (`done` or `error`) and the caller's title is overwritten; no
error text is exposed, as Dokploy only writes build errors to the log file. `jobs()` is what `deployment.queueList`
shows: the running job and the ones waiting behind it. Jobs live in memory only: a restart loses the queued ones, and
the next start marks deployments left `running` as `cancelled` (Dokploy's `initCancelDeployments`; the compose keeps its
`running` status).

Pruning follows `removeLastTenDeployments`: before inserting, rows beyond the newest 10 are deleted, so a compose
holds at most 11 rows right after a job starts (the 10 kept plus the new one).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from dokploy_local import deploy_command
from dokploy_local.ids import now_iso
from dokploy_local.knobs import KnobState
from dokploy_local.rows import deployment_row
from dokploy_local.store import Store

KEEP_DEPLOYMENTS = 10
LOCAL_SERVER = "local"
DEFAULT_TITLES = {"deploy": "Manual deployment", "redeploy": "Rebuild deployment"}
_JOB_IDS = itertools.count(1)


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Job:
    compose_id: str
    title: str
    description: str
    kind: str  # "deploy" or "redeploy"
    server: str = LOCAL_SERVER
    job_id: str = field(default_factory=lambda: str(next(_JOB_IDS)))
    timestamp: int = field(default_factory=_now_ms)
    processed_on: int | None = None

    def queue_row(self, state: str) -> dict[str, Any]:
        """A row of `deployment.queueList` (the in-memory queue's job, as v0.30.x lists it)."""
        data = {
            "composeId": self.compose_id,
            "titleLog": self.title,
            "descriptionLog": self.description,
            "type": self.kind,
            "applicationType": "compose",
            "server": False,
        }
        return {
            "id": self.job_id,
            "name": "deployments",
            "data": data,
            "timestamp": self.timestamp,
            "processedOn": self.processed_on,
            "finishedOn": None,
            "failedReason": None,
            "state": state,
            "servicePath": None,
        }


class DeployQueue:
    def __init__(self, store: Store, knobs: KnobState) -> None:
        self._store = store
        self._knobs = knobs
        self._cond = threading.Condition()
        self._pending: dict[str, deque[Job]] = {}
        self._running: dict[str, Job] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._stopping = threading.Event()

    def enqueue(self, job: Job) -> None:
        with self._cond:
            self._pending.setdefault(job.server, deque()).append(job)
            if job.server not in self._workers:
                worker = threading.Thread(target=self._work, args=(job.server,), name=f"deploy-{job.server}")
                worker.daemon = True
                self._workers[job.server] = worker
                worker.start()
            self._cond.notify_all()

    def drop_compose(self, compose_id: str) -> None:
        """`cleanQueuesByCompose`: forget the compose's queued jobs (a running one finishes)."""
        with self._cond:
            for server, jobs in self._pending.items():
                self._pending[server] = deque(j for j in jobs if j.compose_id != compose_id)

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return {
                "pending": [j.compose_id for jobs in self._pending.values() for j in jobs],
                "running": [j.compose_id for j in self._running.values()],
            }

    def jobs(self) -> list[dict[str, Any]]:
        """What `deployment.queueList` answers: running (`active`) and queued (`waiting`) jobs, newest first."""
        with self._cond:
            rows = [j.queue_row("active") for j in self._running.values()]
            rows += [j.queue_row("waiting") for jobs in self._pending.values() for j in jobs]
        return sorted(rows, key=lambda r: r["timestamp"], reverse=True)

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
            workers = list(self._workers.values())
        for worker in workers:
            worker.join(timeout)

    def _work(self, server: str) -> None:
        while True:
            with self._cond:
                while not self._stopping.is_set() and (not self._pending.get(server) or self._knobs.deploy_paused):
                    self._cond.wait(0.05 if self._knobs.deploy_paused else None)  # a knob change does not notify
                if self._stopping.is_set():
                    return
                job = self._pending[server].popleft()
                job.processed_on = _now_ms()
                self._running[server] = job
            try:
                self._run(job)
            finally:
                with self._cond:
                    self._running.pop(server, None)

    def _run(self, job: Job) -> None:
        store = self._store
        with store.transaction():
            compose = store.get("compose", job.compose_id)
            if compose is None:  # deleted while queued: Dokploy's job fails on findComposeById, silently
                return
            for old in store.children("deployment", job.compose_id, newest_first=True)[KEEP_DEPLOYMENTS:]:
                store.delete("deployment", old["deploymentId"])
            deployment = store.insert("deployment", deployment_row(compose, job.title, job.description))
            store.replace("compose", {**compose, "composeStatus": "running"})
        if self._stopping.wait(self._knobs.deploy_duration_s):
            return  # shutting down mid-job: the row stays `running` until the next start cancels it
        outcome = self._knobs.deploy_outcome
        # The command real Dokploy would have run for it (argv kept; logged when it failed).
        deploy_command.record(store.path.parent, compose, failed=outcome == "error")
        with store.transaction():
            row = store.get("deployment", deployment["deploymentId"])
            if row is not None:
                # Dokploy overwrites the caller's title when the run ends (git sources get the commit message;
                # field reports say raw ones too), so a deployment cannot be found by the title it was given.
                overwritten = {"title": DEFAULT_TITLES[job.kind], "description": ""}
                store.replace("deployment", {**row, **overwritten, "status": outcome, "finishedAt": now_iso()})
            compose = store.get("compose", job.compose_id)
            if compose is not None:
                store.replace("compose", {**compose, "composeStatus": outcome})


def cancel_interrupted(store: Store) -> int:
    """At start: deployments a previous process left `running` become `cancelled`."""
    cancelled = 0
    with store.transaction():
        for row in store.all("deployment"):
            if row["status"] == "running":
                store.replace("deployment", {**row, "status": "cancelled", "finishedAt": now_iso()})
                cancelled += 1
    return cancelled
