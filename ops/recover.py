"""Recovery after a `pulumi` process was killed (SIGKILL, OOM, a cancelled CI job), in one command:

    python -m ops.recover --stack pr-7     # make up / make destroy run it first, so for local it is automatic

1. Engine children left running by the dead CLI are stopped: a language host, dynamic provider or policy
   analyzer whose working directory is this project and whose `pulumi` parent is gone. (The language host
   does not watch its parent, so after a SIGKILL it keeps running forever.)
2. A metadata sidecar the dead CLI tore (file backend): the bucket library writes `<object>.attrs` in place, so a
   kill mid-write leaves it empty, and every later command on the stack fails with `failed to load checkpoint:
   EOF`. A torn one is removed (the library reads a missing sidecar as defaults); the objects themselves are
   written to a temporary name and renamed, so a kill never tears them.
3. A lock the dead CLI left (file backend: its pid is gone on this host) is cleared with `pulumi cancel`;
   on another backend the line says to check no run is active and run `pulumi cancel --stack <stack>`.
4. If the stack's state holds pending operations (the CLI died between starting and finishing a step),
   they are dropped (what `pulumi refresh --clear-pending-creates` does, without a refresh): our providers
   find an object a lost create did make by its marker on the next `up`, so nothing is duplicated; without
   this every later `up` warns about pending operations.

Prints what it did, one line each; nothing when there was nothing to do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from components.environment import ConfigError
from ops import pulumi_cli
from ops.stacks import REPO
from ops.state_locks import project_name
from ops.state_store import BOOKKEEPING, FileStore, open_store

ENGINE_CHILDREN = ("pulumi-language-", "pulumi-resource-", "pulumi-analyzer-")


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _is_engine_child(cmd: list[str]) -> bool:
    # The program itself (argv[0]) or the script a shell or Python runs (argv[1]): the provider is a shell script.
    return any(Path(arg).name.startswith(ENGINE_CHILDREN) for arg in cmd[:2])


def _has_live_cli(pid: int) -> bool:
    """Whether a `pulumi` CLI process is among the ancestors of pid."""
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        pid = _ppid(pid)
        cmd = _cmdline(pid)
        if cmd and Path(cmd[0]).name == "pulumi":
            return True
    return False


def orphans(project_dir: Path) -> list[int]:
    """Engine children working in project_dir whose CLI is gone, and every process they started."""
    found: set[int] = set()
    here: list[int] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if Path(os.readlink(proc / "cwd")) == project_dir:
                here.append(int(proc.name))
        except OSError:
            continue
    for pid in here:
        if _is_engine_child(_cmdline(pid)) and not _has_live_cli(pid):
            found.add(pid)
    for pid in here:  # their children (the provider's Python under its shell script)
        if _ppid(pid) in found:
            found.add(pid)
    return sorted(found)


def stop(pids: Sequence[int], timeout: float = 5.0) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def pending_operations(stack: str, cwd: Path) -> int:
    res = pulumi_cli.run("stack", "export", "--stack", stack, cwd=cwd)
    if res.code != 0:
        return 0  # no such stack yet: nothing pending
    return len((json.loads(res.output).get("deployment") or {}).get("pending_operations") or [])


def _file_backend() -> Path | None:
    """The directory of the file:// backend the CLI uses, or None for another backend."""
    url = os.environ.get("PULUMI_BACKEND_URL", "")
    store = open_store(url) if url.startswith("file://") else None
    return store.root / BOOKKEEPING if isinstance(store, FileStore) else None


def torn_sidecars(stack: str, cwd: Path) -> list[Path]:
    """This stack's `.attrs` sidecars in a file:// backend that do not hold a JSON object (a kill mid-write)."""
    root = _file_backend()
    if root is None:
        return []
    project = project_name(cwd)
    found = [*root.glob(f"**/{project}/{stack}.json*.attrs"), *root.glob(f"**/{project}/{stack}/**/*.attrs")]
    torn = []
    for sidecar in found:
        try:
            whole = isinstance(json.loads(sidecar.read_text()), dict)
        except (OSError, ValueError):
            whole = False
        if not whole:
            torn.append(sidecar)
    return sorted(torn)


def stale_locks(stack: str, cwd: Path) -> list[Path]:
    """Lock files of this stack in a file:// backend whose process is gone (same host)."""
    root = _file_backend()
    if root is None:
        return []
    stale = []
    for lock in (root / "locks").glob(f"**/{project_name(cwd)}/{stack}/*.json"):
        try:
            info = json.loads(lock.read_text())
        except (OSError, ValueError):
            continue
        if info.get("hostname") == socket.gethostname() and not Path(f"/proc/{info.get('pid')}").exists():
            stale.append(lock)
    return stale


def clear_pending(stack: str, cwd: Path) -> None:
    """Drop the pending operations from the state (export, edit, import), as `refresh --clear-pending-creates`
    does for creates, without reading every resource (a read failing on a half-made object stops a refresh).
    A create that did happen is found by its marker on the next `up`; a delete or update is sent again."""
    res = pulumi_cli.run("stack", "export", "--stack", stack, cwd=cwd)
    if res.code != 0:
        raise RuntimeError(f"pulumi stack export failed: {res.output.strip().splitlines()[-1:]}")
    state = json.loads(res.output)
    state["deployment"]["pending_operations"] = []
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(state, f)
    try:
        res = pulumi_cli.run("stack", "import", "--stack", stack, "--file", f.name, cwd=cwd)
    finally:
        os.unlink(f.name)
    if res.code != 0:
        raise RuntimeError(f"pulumi stack import failed: {res.output.strip().splitlines()[-1:]}")


def recover(stack: str, cwd: Path = REPO) -> list[str]:
    done = []
    left = orphans(cwd.resolve())
    if left:
        stop(left)
        done.append(f"recover: stopped {len(left)} engine process(es) a killed pulumi left running")
    torn = torn_sidecars(stack, cwd)
    for sidecar in torn:
        sidecar.unlink(missing_ok=True)
    if torn:
        names = ", ".join(p.name for p in torn)
        done.append(f"recover: removed {len(torn)} metadata file(s) a killed pulumi left half-written ({names})")
    if stale_locks(stack, cwd):
        res = pulumi_cli.run("cancel", "--stack", stack, "--yes", cwd=cwd)
        if res.code != 0:
            raise RuntimeError(f"pulumi cancel failed: {res.output.strip().splitlines()[-1:]}")
        done.append(f"recover: cleared the lock a killed pulumi left on stack {stack} (pulumi cancel)")
    pending = pending_operations(stack, cwd)
    if pending:
        clear_pending(stack, cwd)
        done.append(f"recover: cleared {pending} pending operation(s) of stack {stack}")
    return done


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.recover", description=__doc__.splitlines()[0])
    p.add_argument("--stack", required=True)
    p.add_argument("--cwd", type=Path, default=REPO, help="the Pulumi project directory (default: this repository)")
    a = p.parse_args(argv)
    try:
        for line in recover(a.stack, a.cwd):
            print(line)
    except (RuntimeError, ConfigError) as exc:
        print(str(exc))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
