"""Which `pr-<N>` stacks the reaper destroys, and why. Pure: the caller fetches stacks and PR states.

Rules (one decision per stack, with its reason for the report):
- not a PR stack (`staging`, `production`, `local`, anything the model rejects): always kept;
- its PR is closed (merged or not): reaped, whatever its age;
- its PR is open: reaped only when the stack has been idle longer than the TTL (a push recreates it);
- `pr-<N>` where N is no pull request (an issue number, a hand-made stack): reaped only once idle
  longer than the TTL, so a stack someone is trying out by hand is not pulled from under them;
- unknown age (no `lastUpdate`): never reaped on age.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from components.environment import ConfigError, Kind, parse_stack


class PrState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MISSING = "missing"  # no pull request with that number


@dataclass(frozen=True)
class StackInfo:
    name: str
    last_update: datetime | None


@dataclass(frozen=True)
class Decision:
    stack: str
    reap: bool
    reason: str
    pr_number: int | None = None


def pr_number_of(stack: str) -> int | None:
    try:
        kind, number = parse_stack(stack)
    except ConfigError:
        return None
    return number if kind is Kind.PREVIEW else None


def decide(stack: StackInfo, state: PrState | None, now: datetime, ttl: timedelta) -> Decision:
    number = pr_number_of(stack.name)
    if number is None:
        return Decision(stack.name, False, "not a PR stack")
    idle = now - stack.last_update if stack.last_update else None
    expired = idle is not None and idle > ttl
    age = f"idle {_hours(idle)}h, TTL {_hours(ttl)}h" if idle is not None else "age unknown"
    if state is PrState.CLOSED:
        return Decision(stack.name, True, f"PR #{number} is closed", number)
    if state is PrState.OPEN:
        return Decision(stack.name, expired, f"PR #{number} is open; {age}", number)
    if state is PrState.MISSING:
        return Decision(stack.name, expired, f"#{number} is not a pull request; {age}", number)
    return Decision(stack.name, False, f"PR #{number}: state unknown (lookup failed); kept", number)


def select(stacks: Iterable[StackInfo], states: Mapping[int, PrState], now: datetime, ttl: timedelta) -> list[Decision]:
    out = []
    for stack in stacks:
        number = pr_number_of(stack.name)
        out.append(decide(stack, states.get(number) if number is not None else None, now, ttl))
    return out


def parse_stack_ls(text: str) -> list[StackInfo]:
    """`pulumi stack ls --json` → StackInfo (lastUpdate is ISO 8601 with a `Z`)."""
    out = []
    for row in json.loads(text or "[]"):
        raw = row.get("lastUpdate")
        when = datetime.fromisoformat(raw.replace("Z", "+00:00")) if isinstance(raw, str) and raw else None
        out.append(StackInfo(str(row["name"]).rsplit("/", 1)[-1], when))
    return out


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)
