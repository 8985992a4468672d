"""Smoke test of a deployed environment: the frontend's `/` and the API health path, over HTTP(S).

Each check ends in one verdict. Redirects are followed by hand, only within the same origin and at
most a few hops: the frontend's `/` redirects to `/dashboard` (seed §3c), which is fine, but a
redirect to another host (a parking page, a login wall, a downgrade to http) is a wrong deployment,
not a healthy one. A deploy takes a while to become healthy, so `wait_healthy` retries until a deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import httpx

from components.environment import Environment

MAX_REDIRECTS = 5


class Verdict(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"  # answered, but wrong: non-2xx, bad health body, bad or endless redirects
    TIMEOUT = "timeout"  # no answer within the per-request timeout
    UNREACHABLE = "unreachable"  # connection refused, DNS, TLS


@dataclass(frozen=True)
class Check:
    name: str
    url: str
    verdict: Verdict
    detail: str

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.HEALTHY


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _health_body_ok(body: str) -> bool:
    # The backend answers {"status": "healthy", ...}; "unhealthy" must not pass a substring test.
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get("status", "")).lower() in ("healthy", "ok")


def check(client: httpx.Client, name: str, url: str, *, health: bool = False) -> Check:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            resp = client.get(current)
        except httpx.TimeoutException:
            return Check(name, url, Verdict.TIMEOUT, f"no answer from {current} within {client.timeout.read}s")
        except httpx.TransportError as exc:
            return Check(name, url, Verdict.UNREACHABLE, f"{current}: {type(exc).__name__}: {exc}")
        if resp.is_redirect:
            target = urljoin(current, resp.headers.get("location", ""))
            if _origin(target) != _origin(url):
                return Check(name, url, Verdict.UNHEALTHY, f"{current} redirects off-site to {target}")
            current = target
            continue
        if not resp.is_success:
            return Check(name, url, Verdict.UNHEALTHY, f"{current} answered HTTP {resp.status_code}")
        if health and not _health_body_ok(resp.text):
            return Check(name, url, Verdict.UNHEALTHY, f"{current} answered {resp.status_code} without status healthy")
        return Check(name, url, Verdict.HEALTHY, f"{current} answered HTTP {resp.status_code}")
    return Check(name, url, Verdict.UNHEALTHY, f"more than {MAX_REDIRECTS} redirects from {url}")


def targets(env: Environment, base_url: str | None = None) -> list[tuple[str, str, bool]]:
    """(name, url, is_health) for an environment: its host, or `base_url` standing in for it (tests, local)."""
    base = (base_url or env.url).rstrip("/")
    return [("frontend", base + "/", False), ("api", base + env.routing.health_path, True)]


def run_once(env: Environment, *, base_url: str | None = None, timeout: float = 10.0) -> list[Check]:
    with httpx.Client(timeout=timeout, follow_redirects=False, headers={"user-agent": "finance-report-smoke"}) as c:
        return [check(c, name, url, health=health) for name, url, health in targets(env, base_url)]


def wait_healthy(
    env: Environment,
    *,
    base_url: str | None = None,
    deadline_seconds: float = 300.0,
    interval: float = 10.0,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Check]:
    """Retry until every check is healthy or the deadline passes; the last round's checks are the result."""
    end = clock() + deadline_seconds
    while True:
        checks = run_once(env, base_url=base_url, timeout=timeout)
        if all(c.ok for c in checks) or clock() + interval > end:
            return checks
        sleep(interval)


def overall(checks: list[Check]) -> Verdict:
    for verdict in (Verdict.UNREACHABLE, Verdict.TIMEOUT, Verdict.UNHEALTHY):
        if any(c.verdict is verdict for c in checks):
            return verdict
    return Verdict.HEALTHY
