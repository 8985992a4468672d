"""ops.state_locks on a file backend: how a lock's holder is judged, and that only stale locks go."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops.state_locks import judge, locks, main, parse_lock, stack_lock_prefix
from ops.state_store import open_store

NOW = datetime.now(UTC)


def _lock_doc(pid: int, host: str, when: datetime) -> bytes:
    # as Go's time.Time marshals: RFC 3339 with nanoseconds
    return json.dumps(
        {"pid": pid, "username": "ci", "hostname": host, "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f789Z")}
    ).encode()


def _write(root: Path, stack: str, name: str, body: bytes) -> str:
    key = f"{stack_lock_prefix(stack, 'proj')}{name}.json"
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(body)
    return key


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_parse_reads_go_timestamps_and_owner() -> None:
    lock = parse_lock("k", _lock_doc(42, "h", NOW))
    assert lock.owner == "ci@h (pid 42)" and abs(lock.timestamp - NOW) < timedelta(seconds=1)


def test_judge() -> None:
    host = socket.gethostname()
    mine = parse_lock("k", _lock_doc(os.getpid(), host, NOW - timedelta(seconds=1)))
    assert not judge(mine, host=host, now=NOW, older_than=None).stale  # this test process is alive
    assert judge(parse_lock("k", _lock_doc(_dead_pid(), host, NOW)), host=host, now=NOW, older_than=None).stale
    # a pid alive now but started after the lock was taken is not its holder
    reused = parse_lock("k", _lock_doc(os.getpid(), host, NOW - timedelta(days=400)))
    assert judge(reused, host=host, now=NOW, older_than=None).stale
    other = parse_lock("k", _lock_doc(1, "runner-9", NOW - timedelta(minutes=30)))
    assert not judge(other, host=host, now=NOW, older_than=None).stale
    assert not judge(other, host=host, now=NOW, older_than=timedelta(minutes=60)).stale
    assert judge(other, host=host, now=NOW, older_than=timedelta(minutes=20)).stale


def test_clear_if_stale_removes_only_the_stale_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host = socket.gethostname()
    live = _write(tmp_path, "s", "live", _lock_doc(os.getpid(), host, NOW - timedelta(seconds=1)))
    dead = _write(tmp_path, "s", "dead", _lock_doc(_dead_pid(), host, NOW))
    _write(tmp_path, "other", "x", _lock_doc(_dead_pid(), host, NOW))
    code = main(["--stack", "s", "--project", "proj", "--backend", f"file://{tmp_path}", "--clear-if-stale"])
    out = capsys.readouterr()
    assert code == 1 and f"cleared: {dead}" in out.out and f"held: {live}" in out.out
    assert [lk.key for lk in locks(open_store(f"file://{tmp_path}"), stack_lock_prefix("s", "proj"))] == [live]
    assert (tmp_path / stack_lock_prefix("other", "proj")).is_dir() and any(
        (tmp_path / stack_lock_prefix("other", "proj")).iterdir()
    )


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "s", "--project", "p", "--backend", "https://api.pulumi.com"]) == 1
    assert "pulumi cancel" in capsys.readouterr().err
    _write(tmp_path, "s", "junk", b"not json")
    assert main(["--stack", "s", "--project", "proj", "--backend", f"file://{tmp_path}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: lock object") and len(err.strip().splitlines()) == 1
    assert main(["--stack", "s", "--project", "proj", "--backend", f"file://{tmp_path / 'none'}"]) == 0
    assert "no lock" in capsys.readouterr().out
