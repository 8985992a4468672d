"""Who holds a stack's lock on a self-managed (DIY) backend, and clearing it only when it is stale.

    python -m ops.state_locks --stack staging                    # list: owner user@host, pid, time, verdict
    python -m ops.state_locks --stack staging --clear-if-stale   # delete only the locks judged stale

The CLI writes one lock object per running update, `.pulumi/locks/<org>/<project>/<stack>/<uuid>.json`
holding `{pid, username, hostname, timestamp}`; `pulumi cancel` deletes *every* lock of the stack, including
the one of a run that is still going. This command deletes a lock only when its holder is shown gone:

- same host, and that pid is not running (or is a different process started after the lock): stale;
- another host (a CI runner that died): stale only when older than `--older-than MINUTES`, which should
  be the longest job timeout of the workflows (a live run cannot be older); without it, it is reported and kept.

Backend and credentials as for the CLI: PULUMI_BACKEND_URL (or --backend), AWS_ACCESS_KEY_ID/...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from components.environment import ConfigError
from ops.stacks import REPO
from ops.state_store import BOOKKEEPING, Store, open_store, redacted

LOCK_DIR = f"{BOOKKEEPING}/locks"


@dataclass(frozen=True)
class Lock:
    key: str
    pid: int
    username: str
    hostname: str
    timestamp: datetime
    raw: bytes

    @property
    def owner(self) -> str:
        return f"{self.username}@{self.hostname} (pid {self.pid})"

    def age(self, now: datetime) -> timedelta:
        return now - self.timestamp


@dataclass(frozen=True)
class Verdict:
    stale: bool
    reason: str


def _parse_time(text: str) -> datetime:
    # Go writes RFC 3339 with nanoseconds; Python reads at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text)


def parse_lock(key: str, raw: bytes) -> Lock:
    try:
        doc = json.loads(raw)
        return Lock(
            key, int(doc["pid"]), str(doc["username"]), str(doc["hostname"]), _parse_time(doc["timestamp"]), raw
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"lock object {key} is not a Pulumi lock ({exc}); inspect it before deleting it") from exc


def stack_lock_prefix(stack: str, project: str) -> str:
    """A stack's lock folder; `stack` may already be fully qualified (`organization/<project>/<stack>`)."""
    qualified = stack if stack.count("/") == 2 else f"organization/{project}/{stack}"
    return f"{LOCK_DIR}/{qualified}/"


def locks(store: Store, prefix: str) -> list[Lock]:
    return [parse_lock(k, store.read(k)) for k in store.keys(prefix) if k.endswith(".json")]


def _process_started_after(pid: int, when: datetime) -> bool | None:
    """Linux: whether `pid` is a process started after `when` (so not the lock's holder); None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] == "Z":  # a zombie holds nothing
            return True
        btime = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        started = btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return started > when.timestamp() + 1
    except (OSError, StopIteration, IndexError, ValueError):
        return None


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def judge(lock: Lock, *, host: str, now: datetime, older_than: timedelta | None) -> Verdict:
    if lock.hostname == host:
        if not _pid_running(lock.pid) or _process_started_after(lock.pid, lock.timestamp):
            return Verdict(True, f"process {lock.pid} on this host ({host}) is gone")
        return Verdict(False, f"process {lock.pid} on this host is still running: an update is in progress")
    age = lock.age(now)
    if older_than is not None and age > older_than:
        return Verdict(
            True, f"held by another host for {_minutes(age)}, longer than --older-than {_minutes(older_than)}"
        )
    return Verdict(
        False,
        f"held by another host ({lock.hostname}) for {_minutes(age)}: check that no run of the stack is active, "
        "then pass --older-than <the workflows' longest job timeout, minutes>",
    )


def _minutes(d: timedelta) -> str:
    return f"{d.total_seconds() / 60:.1f} min"


def project_name(cwd: Path) -> str:
    pulumi_yaml = cwd / "Pulumi.yaml"
    if not pulumi_yaml.exists():
        raise ConfigError(f"no Pulumi.yaml in {cwd}: pass --project <name> or --cwd <project directory>")
    return str(yaml.safe_load(pulumi_yaml.read_text())["name"])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.state_locks", description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", required=True, help="stack name (or organization/<project>/<stack>)")
    p.add_argument("--project", help="Pulumi project name (default: name in <cwd>/Pulumi.yaml)")
    p.add_argument("--cwd", type=Path, default=REPO, help="the project directory (default: this repository)")
    p.add_argument("--backend", default=os.environ.get("PULUMI_BACKEND_URL"), help="default: $PULUMI_BACKEND_URL")
    p.add_argument("--clear-if-stale", action="store_true", help="delete the locks judged stale")
    p.add_argument(
        "--older-than", type=float, metavar="MINUTES", help="a lock of another host older than this is stale"
    )
    a = p.parse_args(argv)
    try:
        if not a.backend:
            raise ConfigError("no backend: set PULUMI_BACKEND_URL or pass --backend <url>")
        store = open_store(a.backend)
        prefix = stack_lock_prefix(a.stack, a.project or project_name(a.cwd))
        older = timedelta(minutes=a.older_than) if a.older_than is not None else None
        return report(store, prefix, clear=a.clear_if_stale, older_than=older)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # botocore errors: one line, no traceback
        print(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


def report(store: Store, prefix: str, *, clear: bool, older_than: timedelta | None) -> int:
    where = f"{redacted(store.url)}/{prefix}"
    found = locks(store, prefix)
    if not found:
        print(f"no lock on {where}")
        return 0
    host, now = socket.gethostname(), datetime.now(UTC)
    held = []
    for lock in found:
        verdict = judge(lock, host=host, now=now, older_than=older_than)
        state = "stale" if verdict.stale else "held"
        print(f"{state}: {lock.key}: created by {lock.owner} at {lock.timestamp.isoformat()}; {verdict.reason}")
        if not (clear and verdict.stale):
            held.append(lock)
            continue
        # Delete only the object we judged: a lock rewritten since (a new run) is not ours to remove.
        if store.read(lock.key) != lock.raw:
            held.append(lock)
            print(f"kept: {lock.key} changed while it was checked")
            continue
        store.delete(lock.key)
        print(f"cleared: {lock.key}")
    if clear and held:
        print(f"error: {len(held)} lock(s) on {where} are held, not cleared", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
