"""Test knobs: faults, latency and deployment behaviour, all off by default, settable at start and at runtime.

Faults are decided per request to a Dokploy procedure (`/api/<router>.<procedure>`, not `/api/health` and not
the control API), in this order, from one random generator (seeded by `seed` for repeatable runs):

1. `throttle_burst` / `throttle_rps`: 429 `Too Many Requests` with `Retry-After`, as a rate-limiting proxy in
   front of Dokploy would answer (Dokploy itself never sends 429).
2. `latency_ms` (+ uniform `latency_jitter_ms`): added before anything else is done. `spike_rate` of the
   requests also wait `spike_ms` more (latency spikes).
3. `error_rate`: a 5xx picked from `error_statuses` (500 is Dokploy's own tRPC error; 502/503/504 are a proxy's
   plain-text pages); `drop_rate`: the connection closes without an answer; `timeout_rate`: no answer for
   `timeout_seconds`, then the connection closes. None of these run the procedure.
4. `unauthorized_burst`: the next N requests get Dokploy's 401, as with an exhausted or revoked key.
5. `commit_drop_rate`: a mutation runs and commits, then the connection closes without an answer.

`fault_procedures` limits 1 and 3-5 to the named procedures (empty: all). Deployment knobs:
`deploy_duration_ms` (how long a job runs), `deploy_outcome` (`done` or `error`) and `deploy_paused` (no queued job
starts while it is set, as behind a hung build; the running one finishes). `registry_login_error`:
the docker CLI stderr that `registry.create`/`update`/`testRegistry` fail with (docker login is not run here;
without it every login succeeds). `dokploy_version`: what `settings.getDokployVersion` answers (default
`v0.30.2`, the version the imitation was checked against; any string, to test a client's version policy).
`git_provider_ids`: the git provider (GitHub App, ...) and SSH key ids that exist; a compose naming another one
fails as Dokploy's foreign keys do.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

# The GitHub App the project's stacks name (its `githubId`): on a real server it is made in Dokploy's UI.
DEFAULT_GIT_PROVIDER_IDS = ("126refcRlCoWj6pmPXElU",)

Fault = Literal["throttle", "error", "drop", "timeout", "unauthorized"]


@dataclass
class Knobs:
    latency_ms: float = 0
    latency_jitter_ms: float = 0
    spike_rate: float = 0
    spike_ms: float = 2000
    error_rate: float = 0
    error_statuses: list[int] = field(default_factory=lambda: [500, 502, 503, 504])
    drop_rate: float = 0
    timeout_rate: float = 0
    timeout_seconds: float = 30
    commit_drop_rate: float = 0
    unauthorized_burst: int = 0
    throttle_burst: int = 0
    throttle_rps: float = 0
    retry_after_seconds: int = 1
    fault_procedures: list[str] = field(default_factory=list)
    seed: int | None = None
    deploy_duration_ms: float = 1000
    deploy_outcome: str = "done"
    deploy_paused: bool = False
    registry_login_error: str | None = None
    dokploy_version: str = "v0.30.2"
    git_provider_ids: list[str] = field(default_factory=lambda: list(DEFAULT_GIT_PROVIDER_IDS))


_RATES = ("error_rate", "drop_rate", "timeout_rate", "commit_drop_rate", "spike_rate")
_NON_NEGATIVE = (
    "latency_ms",
    "latency_jitter_ms",
    "spike_ms",
    "timeout_seconds",
    "unauthorized_burst",
    "throttle_burst",
    "throttle_rps",
    "retry_after_seconds",
    "deploy_duration_ms",
)


class KnobError(ValueError):
    pass


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Checked and normalised knob values; `KnobError` names the first bad one."""
    known = {f.name: f for f in fields(Knobs)}
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in known:
            raise KnobError(f"unknown knob {name!r}; known: {', '.join(sorted(known))}")
        if name in _RATES:
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                raise KnobError(f"{name} must be a number between 0 and 1")
            value = float(value)
        elif name in _NON_NEGATIVE:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise KnobError(f"{name} must be a non-negative number")
            if name in ("unauthorized_burst", "throttle_burst", "retry_after_seconds"):
                value = int(value)
        elif name == "error_statuses":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(s, int) and 500 <= s <= 599 for s in value)
            ):
                raise KnobError("error_statuses must be a non-empty list of 5xx status codes")
        elif name == "fault_procedures":
            if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                raise KnobError("fault_procedures must be a list of procedure names")
        elif name == "seed":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise KnobError("seed must be an integer or null")
        elif name == "deploy_outcome":
            if value not in ("done", "error"):
                raise KnobError("deploy_outcome must be 'done' or 'error'")
        elif name == "deploy_paused" and not isinstance(value, bool):
            raise KnobError("deploy_paused must be true or false")
        elif name == "registry_login_error" and value is not None and not isinstance(value, str):
            raise KnobError("registry_login_error must be a string or null")
        elif name == "dokploy_version" and not isinstance(value, str):
            raise KnobError("dokploy_version must be a string such as 'v0.31.0'")
        elif name == "git_provider_ids" and (not isinstance(value, list) or not all(isinstance(i, str) for i in value)):
            raise KnobError("git_provider_ids must be a list of ids")
        out[name] = value
    return out


@dataclass
class Decision:
    latency_s: float = 0.0
    fault: Fault | None = None
    error_status: int = 500
    commit_drop: bool = False


class KnobState:
    """The live knobs plus what they consume (bursts, the token bucket, the random generator)."""

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.knobs = Knobs()
        self._rng = random.Random()
        self._tokens = 0.0
        self._refilled = time.monotonic()
        if initial:
            self.update(initial)

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        checked = validate_changes(changes)
        with self._lock:
            for name, value in checked.items():
                setattr(self.knobs, name, value)
            if "seed" in checked:
                self._rng = random.Random(checked["seed"])
            if "throttle_rps" in checked:
                self._tokens, self._refilled = max(1.0, self.knobs.throttle_rps), time.monotonic()
            return asdict(self.knobs)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self.knobs)

    def _targeted(self, procedure: str | None) -> bool:
        targets = self.knobs.fault_procedures
        return not targets or (procedure is not None and procedure in targets)

    def _throttled(self) -> bool:
        k = self.knobs
        if k.throttle_burst > 0:
            k.throttle_burst -= 1
            return True
        if k.throttle_rps <= 0:
            return False
        now = time.monotonic()
        capacity = max(1.0, k.throttle_rps)
        self._tokens = min(capacity, self._tokens + (now - self._refilled) * k.throttle_rps)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return False
        return True

    def decide(self, procedure: str | None, is_mutation: bool) -> Decision:
        with self._lock:
            k, rng = self.knobs, self._rng
            decision = Decision()
            if k.latency_ms or k.latency_jitter_ms:
                decision.latency_s = (k.latency_ms + rng.uniform(0, k.latency_jitter_ms)) / 1000
            if k.spike_rate and rng.random() < k.spike_rate:
                decision.latency_s += k.spike_ms / 1000
            if not self._targeted(procedure):
                return decision
            if self._throttled():
                decision.fault = "throttle"
                return decision
            roll = rng.random() if (k.error_rate or k.drop_rate or k.timeout_rate) else 1.0
            if roll < k.error_rate:
                decision.fault, decision.error_status = "error", rng.choice(k.error_statuses)
            elif roll < k.error_rate + k.drop_rate:
                decision.fault = "drop"
            elif roll < k.error_rate + k.drop_rate + k.timeout_rate:
                decision.fault = "timeout"
            elif k.unauthorized_burst > 0:
                k.unauthorized_burst -= 1
                decision.fault = "unauthorized"
            elif is_mutation and k.commit_drop_rate and rng.random() < k.commit_drop_rate:
                decision.commit_drop = True
            return decision

    @property
    def deploy_duration_s(self) -> float:
        return self.knobs.deploy_duration_ms / 1000

    @property
    def deploy_outcome(self) -> str:
        return self.knobs.deploy_outcome

    @property
    def deploy_paused(self) -> bool:
        return self.knobs.deploy_paused

    @property
    def registry_login_error(self) -> str | None:
        return self.knobs.registry_login_error
