"""scripts/local-servers.sh owns its processes (issue 16, build 8), on a throwaway copy of the repository.

One server per data directory, a lock, and `stop` (`make down`) ends what `start` (`make up`) started
whatever the config says now: after two starts at once, a changed port, a URL without a scheme, a port
taken by another program. Processes are counted on the machine (pgrep by data directory), not by pid file.
A stack file with a YAML error through `make up` (scripts/up.sh) is one line, and starts nothing.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.reliability import report
from tests.stacks.clone import Clone, free_port

pytestmark = [pytest.mark.engine]


def _servers(clone: Clone) -> dict[str, list[int]]:
    """Live processes serving this clone's data directories."""
    out = {}
    for name, pattern in (
        ("dokploy", f"-m dokploy_local .*--data {clone.root / '.local' / 'dokploy'}( |$)"),
        ("openbao", f"server -config={clone.root / '.local' / 'openbao'}/"),
    ):
        proc = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True, check=False)
        out[name] = [int(p) for p in proc.stdout.split()]
    return out


def _set_url(clone: Clone, key: str, url: str) -> None:
    path = clone.root / "Pulumi.local.yaml"
    doc = yaml.safe_load(path.read_text())
    text = path.read_text().replace(str(doc["config"][key]), url)
    path.write_text(text)


def _one_line_error(run_output: str, pattern: str) -> str:
    lines = [line for line in run_output.strip().splitlines() if line.strip()]
    assert "Traceback" not in run_output, run_output
    assert len(lines) == 1, run_output
    assert pattern in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Clone]:
    c = Clone.create(tmp_path)
    yield c
    c.script("local-servers.sh", "stop", check=False)


def test_local_servers_own_their_processes(clone: Clone) -> None:
    steps: list[str] = []
    # Two `make up` at once: the lock makes the second find the first's servers.
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: clone.script("local-servers.sh", "start", check=False), range(2)))
    assert all(r.returncode == 0 for r in runs), [r.output for r in runs]
    assert {k: len(v) for k, v in _servers(clone).items()} == {"dokploy": 1, "openbao": 1}
    steps.append("two starts at once: 1 Dokploy, 1 OpenBao")

    # The port changed in the config: the server moves, it is not doubled.
    new_port = free_port()
    _set_url(clone, "dokploy:url", f"http://127.0.0.1:{new_port}")
    clone.script("local-servers.sh", "start")
    (pid,) = _servers(clone)["dokploy"]
    assert clone.control("counters")  # answers on the new port
    steps.append("port changed: 1 Dokploy, on the new port")

    # A URL without a scheme: start refuses with one line; stop still stops everything.
    _set_url(clone, "dokploy:url", f"127.0.0.1:{new_port}")
    bad = clone.script("local-servers.sh", "start", check=False)
    assert bad.returncode != 0
    _one_line_error(bad.stderr, "dokploy:url '127.0.0.1:")
    clone.script("local-servers.sh", "stop")
    assert _servers(clone) == {"dokploy": [], "openbao": []}
    steps.append("URL without scheme: start refused in one line; stop left no process")

    # A port taken by another program: one line, nothing started, no pid file pointing at a stranger.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        _set_url(clone, "dokploy:url", f"http://127.0.0.1:{taken}")
        bad = clone.script("local-servers.sh", "start", check=False)
        assert bad.returncode != 0
        _one_line_error(bad.stderr, f"port {taken} (dokploy:url in Pulumi.local.yaml) is taken")
        assert _servers(clone)["dokploy"] == []
        assert not (clone.root / ".local" / "dokploy" / "pid").exists()
    clone.script("local-servers.sh", "stop")
    assert _servers(clone) == {"dokploy": [], "openbao": []}
    steps.append("port taken: start refused in one line, nothing started")
    del pid
    report.scenario(
        "local-servers-own-their-processes",
        "local servers",
        "two starts at once; port changed; URL without scheme; port taken; then stop",
        "; ".join(steps),
        objects="1 server per data dir / 1; after stop 0 / 0",
    )


def test_stack_file_yaml_error_through_make_up_is_one_line(clone: Clone) -> None:
    path = clone.root / "Pulumi.local.yaml"
    path.write_text(path.read_text().replace("config:\n", "config:\n  financeReport:baseDomain: [unclosed\n", 1))
    started = time.monotonic()
    run = clone.script("up.sh", check=False)
    assert run.returncode != 0
    line = _one_line_error(run.stderr, "Pulumi.local.yaml is not valid YAML at line")
    assert _servers(clone) == {"dokploy": [], "openbao": []}  # refused before starting anything
    report.record(
        report.Row(
            id="cli-stack-file-yaml-error",
            group="stack file",
            input="Pulumi.local.yaml with a YAML error, through `make up` (scripts/up.sh)",
            result="pass",
            message=f"{line} ({time.monotonic() - started:.1f} s)",
        )
    )
