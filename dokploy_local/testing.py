"""Run the local Dokploy server in a subprocess from tests, scripts and the benchmark.

    from dokploy_local.testing import running_server

    with running_server(tmp_path / "dokploy", api_key="owner-key", knobs={"deploy_duration_ms": 50}) as dokploy:
        httpx.get(f"{dokploy.url}/api/project.all", headers={"x-api-key": dokploy.api_key})
        dokploy.set_knobs(drop_rate=0.2, seed=1)       # faults from now on
        dokploy.add_member_key("member-key", [project_id])
        dokploy.requests(); dokploy.counters(); dokploy.count_objects()
        dokploy.restart()                              # same port and data; queued deployments are lost

The handle (`LocalDokploy`):

- `url`: base URL (`http://127.0.0.1:<port>`); Dokploy's API is at `url + "/api/<router>.<procedure>"`.
- `api_key`: the owner key; send it as `x-api-key`. `data_dir`: the SQLite state directory.
- `set_knobs(**knobs) -> dict`, `knobs() -> dict`: fault and deployment knobs (see `dokploy_local.knobs`).
- `add_member_key(key, project_ids)`: a member key limited to those projects (ids, or names).
- `requests(since=0) -> list[dict]`: the request log (`seq`, `method`, `path`, `procedure`, `kind` read/write,
  `principal`, `status`, `outcome`, `duration_ms`, `input` with passwords and env redacted).
- `counters() -> dict`: `total`, `reads`, `writes`, `unmatched`, `by_procedure`, `by_status`, `by_outcome`.
- `reset_stats()`: empty the log and counters.
- `count_objects() -> dict`: stored projects, environments, composes, domains, deployments, registries, member
  keys, queued and running deployment jobs.
- `seed(**spec) -> dict`: bulk objects (`projects`, `environments_per_project`, `composes_per_environment`,
  `domains_per_compose`, `deployments_per_compose`, `name_prefix`), returns their ids.
- `restart()`: stop and start again on the same port with the same data; knobs go back to the start values.
- `stop()`: stop the process (also done when the `with` block ends).

The server binds loopback only and picks a free port; start-up takes well under a second.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

DEFAULT_API_KEY = "local-owner-key"
STARTUP_TIMEOUT = 20.0


class ServerError(RuntimeError):
    pass


class LocalDokploy:
    """A running `python -m dokploy_local` process and its control API."""

    def __init__(self, data_dir: Path, *, api_key: str, knobs: dict[str, Any] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.api_key = api_key
        self._start_knobs = dict(knobs or {})
        self._port = 0
        self._process: subprocess.Popen[str] | None = None
        self._client: httpx.Client | None = None
        self.url = ""

    # lifecycle

    def start(self) -> None:
        if self._process is not None:
            raise ServerError("already running")
        command = [
            sys.executable,
            "-m",
            "dokploy_local",
            "--host",
            "127.0.0.1",
            "--port",
            str(self._port),
            "--data",
            str(self.data_dir),
            "--api-key",
            self.api_key,
            "--knobs",
            json.dumps(self._start_knobs),
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        repo = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        self.url = self._read_url(self._process)
        self._port = int(self.url.rsplit(":", 1)[1])
        self._client = httpx.Client(base_url=f"{self.url}/__local/", headers={"x-api-key": self.api_key}, timeout=30)

    @staticmethod
    def _read_url(process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        # The server prints its URL, in one line, once it listens; wait for it without blocking forever.
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_TIMEOUT)
        line = process.stdout.readline().strip() if ready else ""
        if not line.startswith("http://"):
            process.kill()
            raise ServerError(f"dokploy_local did not start (exit {process.wait()}): {line!r}")
        return line

    def stop(self) -> None:
        process, self._process = self._process, None
        if self._client is not None:
            self._client.close()
            self._client = None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()

    def restart(self) -> None:
        """Same port, same data: objects survive, queued deployment jobs do not."""
        self.stop()
        self.start()

    # control API

    def _control(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        if self._client is None:
            raise ServerError("not running")
        response = self._client.request(method, path, json=body, params=params)
        if response.status_code != 200:
            raise ServerError(f"control {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def set_knobs(self, **knobs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._control("POST", "knobs", knobs)
        return result

    def knobs(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "knobs")
        return result

    def add_member_key(self, key: str, project_ids: list[str]) -> None:
        self._control("POST", "member-keys", {"key": key, "projects": list(project_ids)})

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._control("GET", "requests", params={"since": since})["requests"]
        return result

    def counters(self) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", "counters")
        return result

    def reset_stats(self) -> None:
        self._control("POST", "reset-stats")

    def count_objects(self) -> dict[str, int]:
        result: dict[str, int] = self._control("GET", "counts")
        return result

    def seed(self, **spec: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._control("POST", "seed", spec)
        return result


@contextmanager
def running_server(
    data_dir: Path | str, *, api_key: str = DEFAULT_API_KEY, knobs: dict[str, Any] | None = None
) -> Iterator[LocalDokploy]:
    """Start the server on a free loopback port, yield its handle, stop it on exit."""
    server = LocalDokploy(Path(data_dir), api_key=api_key, knobs=knobs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
