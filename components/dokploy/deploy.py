"""Deploy a compose and wait for *that* deployment, with a deadline.

`compose.deploy` only queues a job and answers `{success, message, composeId}`; the worker later creates
a deployment row (`running`) and finishes it (`done` / `error` / `cancelled`). `composeStatus` can still
show the previous run's `done` right after the call, so the run is correlated by deployment id
(dokploy-api.md §4.5): snapshot the ids, deploy with a title carrying the resource's marker and run hash,
then follow the first new deployment (preferring the one with our title; git sources overwrite the
title when the run ends, but by then we follow the id).

A deploy is never sent twice blindly: if the newest deployment already carries this run's title and is
running or done (an earlier attempt whose answer was lost, or whose deadline passed), it is followed
instead; if the answer to `compose.deploy` is lost, we wait a grace period for the deployment to appear
and otherwise stop and say so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from components.dokploy.client import DokployClient
from components.dokploy.errors import (
    DeploymentFailedError,
    DeploymentTimeoutError,
    DokployNotFoundError,
    UncertainWriteError,
)
from components.dokploy.markers import deploy_title

TERMINAL = frozenset({"done", "error", "cancelled"})
DEFAULT_TIMEOUT_SECONDS = 15 * 60
ENV_POLL = "DOKPLOY_DEPLOY_POLL_SECONDS"  # first poll interval (grows x1.5 up to 5 s); tests shorten it
ENV_GRACE = "DOKPLOY_DEPLOY_APPEAR_GRACE_SECONDS"  # how long a lost deploy answer may take to show a deployment

Row = dict[str, Any]


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
    """Clock, sleep and poll settings, swappable in tests."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        first_interval: float | None = None,
        appear_grace: float | None = None,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.first_interval = first_interval or float(os.environ.get(ENV_POLL) or 1.0)
        self.appear_grace = appear_grace if appear_grace is not None else float(os.environ.get(ENV_GRACE) or 60.0)

    def intervals(self, deadline: float) -> Any:
        interval = self.first_interval
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                return
            self.sleep(min(interval, remaining))
            interval = min(interval * 1.5, 5.0)
            yield


def deploy_and_wait(
    c: DokployClient,
    compose_id: str,
    *,
    marker: str,
    run_hash: str,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    waiter: Waiter | None = None,
) -> Row:
    """Deploy (or follow this run's deployment already under way) and return its row once `done`."""
    w = waiter or Waiter()
    deadline = w.clock() + timeout_seconds
    title = deploy_title(marker, run_hash)
    rows = deployments(c, compose_id)
    newest = rows[0] if rows else None
    if newest and newest.get("title") == title and newest.get("status") in ("running", "done"):
        row = newest
    else:
        before = {str(r["deploymentId"]) for r in rows}
        lost = False
        try:
            c.mutate("compose.deploy", {"composeId": compose_id, "title": title}, repeat_safe=False)
        except UncertainWriteError:
            lost = True
        appear_by = min(deadline, w.clock() + w.appear_grace) if lost else deadline
        found = _first_new(c, compose_id, before, title, appear_by, w)
        if found is None:
            if lost:
                raise UncertainWriteError(
                    f"compose.deploy for compose {compose_id}: the answer was lost and no deployment appeared within "
                    f"{w.appear_grace:.0f} s; it was not sent again (a deploy is never repeated blindly). Run "
                    "`pulumi up` again: it follows that deployment if it shows up, or deploys.",
                    procedure="compose.deploy",
                )
            raise DeploymentTimeoutError(
                f"compose {compose_id}: deploy queued but no deployment started within {timeout_seconds:.0f} s "
                "(Dokploy runs builds one at a time per server); run `pulumi up` again to keep waiting",
                deployment_id="",
                status="queued",
                log_path=None,
            )
        row = found
    return _wait_terminal(c, compose_id, row, deadline, timeout_seconds, w)


def _first_new(c: DokployClient, compose_id: str, before: set[str], title: str, until: float, w: Waiter) -> Row | None:
    for _ in _polls(w, until):
        new = [r for r in deployments(c, compose_id) if str(r["deploymentId"]) not in before]
        mine = [r for r in new if r.get("title") == title] or new
        if mine:
            return mine[-1]  # the oldest new one: the first to start after our call
    return None


def _polls(w: Waiter, until: float) -> Any:
    yield  # look once right away
    yield from w.intervals(until)


def _wait_terminal(c: DokployClient, compose_id: str, row: Row, deadline: float, timeout: float, w: Waiter) -> Row:
    dep_id = str(row["deploymentId"])
    for _ in _polls(w, deadline):
        current = next((r for r in deployments(c, compose_id) if str(r["deploymentId"]) == dep_id), None)
        if current is None:
            c.query("compose.one", composeId=compose_id)  # raises NotFound if the compose itself went away
            raise DokployNotFoundError(
                f"deployment {dep_id} of compose {compose_id} disappeared while waiting (Dokploy keeps the newest 10)",
                procedure="deployment.allByCompose",
                status=404,
            )
        row = current
        status = row.get("status")
        if status == "done":
            return row
        if status in TERMINAL:
            raise failure(row, compose_id)
    raise DeploymentTimeoutError(
        f"deployment {dep_id} of compose {compose_id} is still '{row.get('status')}' after {timeout:.0f} s "
        f"(the deadline); {log_hint(row)}. Run `pulumi up` again to keep waiting for it, or raise timeout_seconds.",
        deployment_id=dep_id,
        status=str(row.get("status")),
        log_path=row.get("logPath"),
    )
