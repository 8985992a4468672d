"""What reached the Dokploy API: a bounded request log and counters, for tests and the benchmark.

Only `/api/<procedure>` calls are recorded (not `/api/health`, not the control API). Queries (GET) count as
reads and mutations (POST) as writes; calls that match no procedure count as `unmatched`. The logged input has
every `password` and `env` value replaced by `***`: those are where Dokploy holds secrets, and a log keeps
none. Both live in memory: a restart starts them afresh.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

MAX_ENTRIES = 50_000


SECRET_FIELDS = frozenset({"password", "env"})


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if k in SECRET_FIELDS and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._by_procedure: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._by_outcome: Counter[str] = Counter()
        self._reads = self._writes = self._unmatched = self._total = 0

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, **entry, "input": redact(entry.get("input"))}
            self._entries.append(entry)
            self._total += 1
            if entry["procedure"] is None:
                self._unmatched += 1
            else:
                self._by_procedure[entry["procedure"]] += 1
                if entry["kind"] == "read":
                    self._reads += 1
                else:
                    self._writes += 1
            self._by_status[str(entry["status"])] += 1
            self._by_outcome[entry["outcome"]] += 1

    def entries(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [e for e in self._entries if e["seq"] > since]
        return found[:limit] if limit else found

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "reads": self._reads,
                "writes": self._writes,
                "unmatched": self._unmatched,
                "by_procedure": dict(self._by_procedure),
                "by_status": dict(self._by_status),
                "by_outcome": dict(self._by_outcome),
                "last_seq": self._seq,
            }

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._reset_counters()
