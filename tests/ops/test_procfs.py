"""ops/procfs: which process holds a port, what it holds, and what its environment says (this machine's /proc)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ops import procfs

pytestmark = pytest.mark.skipif(not procfs.available(), reason="needs Linux's /proc")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_a_listening_socket_is_found_by_its_port_and_held_by_this_process(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    inodes = procfs.socket_inodes(port, listening=True)
    assert len(inodes) == 1
    assert inodes <= (procfs.open_files(os.getpid()) or set())
    assert os.getpid() in procfs.holders(inodes)


def test_the_calling_end_of_a_connection_is_found_by_its_own_port(listener: socket.socket) -> None:
    with socket.create_connection(listener.getsockname()) as client:
        client_port = client.getsockname()[1]
        assert not procfs.socket_inodes(client_port, listening=True)  # it is not listening
        calling = procfs.socket_inodes(client_port)
        assert calling and procfs.holders(calling) == [os.getpid()]


def test_another_process_environment_is_read_and_a_missing_process_gives_nothing() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, "GITHUB_JOB": "smoke"}
    )
    try:
        assert procfs.environment_variable(child.pid, "GITHUB_JOB") == "smoke"
        assert procfs.environment_variable(child.pid, "NOT_SET_ANYWHERE") == ""
    finally:
        child.kill()
        child.wait()
    assert procfs.open_files(child.pid) is None
    assert procfs.environment_variable(child.pid, "GITHUB_JOB") == ""
