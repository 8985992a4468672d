"""What Linux's /proc says about a process and its sockets: which process holds a port, and what it holds.

Two callers need it: the OpenBao start (is the server answering on its port really the one it started?) and the
pipeline's OIDC stand-in (which job is calling?). Both degrade to "cannot tell" where there is no /proc.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

LISTEN = "0A"  # the state column of /proc/net/tcp


def available() -> bool:
    return Path("/proc/net/tcp").exists()


def socket_inodes(port: int, *, listening: bool = False) -> set[str]:
    """`socket:[<inode>]` of the TCP sockets (v4 and v6) whose local port is `port`; only listening ones if asked."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                f = line.split()
                if int(f[1].rsplit(":", 1)[1], 16) == port and (not listening or f[3] == LISTEN):
                    found.add(f"socket:[{f[9]}]")
    return found


def open_files(pid: int) -> set[str] | None:
    """What pid's file descriptors point to (`socket:[…]`, paths); None where its /proc cannot be read."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return None
    held = set()
    for fd in fds:
        with contextlib.suppress(OSError):  # an fd closed since the listing
            held.add(os.readlink(fd))
    return held


def holders(inodes: set[str]) -> list[int]:
    """The processes holding any of these sockets."""
    pids = (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
    return [pid for pid in pids if inodes & (open_files(pid) or set())]


def environment_variable(pid: int, name: str) -> str:
    """`name` in pid's environment, or "" (unset, or not readable)."""
    with contextlib.suppress(OSError):
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if item.startswith(name.encode() + b"="):
                return item.split(b"=", 1)[1].decode()
    return ""
