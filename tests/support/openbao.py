"""A real OpenBao server for tests: raft storage in a temp dir (not -dev), loopback, initialised and
unsealed through the API by ops.openbao_server (the same code `make up` uses).

    from tests.support.openbao import openbao  # noqa: F401  (in a conftest: registers the fixture)

    def test_x(openbao: OpenBao) -> None:
        admin = openbao.client()            # hvac.Client with the root token
        openbao.restart()                   # stop + start: data kept, unsealed again

One server per session (starting one takes a few seconds on 2 cores). The root token and the unseal
key stay in files; nothing here prints them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest

from ops import openbao_server


@dataclass
class OpenBao:
    data_dir: Path
    address: str = ""

    def start(self) -> OpenBao:
        try:
            info = openbao_server.start(self.data_dir, port=None if self.address else 0)
        except openbao_server.PortTaken:
            # Another test process's server took the port while this one was stopped: a fresh port, same data.
            info = openbao_server.start(self.data_dir, port=0)
        self.address = info.address
        return self

    def stop(self) -> None:
        openbao_server.stop(self.data_dir)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return openbao_server.status(self.data_dir).running

    @property
    def root_token(self) -> str:
        return (self.data_dir / openbao_server.ROOT_TOKEN_FILE).read_text().strip()

    def client(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.address, token=self.root_token if token is None else token)

    def env(self, token: str | None = None) -> dict[str, str]:
        """VAULT_* for a child process acting as `token` (root by default)."""
        return {"VAULT_ADDR": self.address, "VAULT_TOKEN": self.root_token if token is None else token}

    def __repr__(self) -> str:
        return f"OpenBao({self.address})"


def start_openbao(data_dir: Path) -> OpenBao:
    """Outside pytest: a server in data_dir on a free port (see ops.openbao_server for a fixed one)."""
    return OpenBao(data_dir).start()


def openbao_in(data_dir: Path) -> Iterator[OpenBao]:
    """A server in data_dir for the life of a fixture, stopped after it."""
    server = start_openbao(data_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    yield from openbao_in(tmp_path_factory.mktemp("openbao"))


@pytest.fixture
def running_openbao(openbao: OpenBao) -> OpenBao:
    """The session server, started again if an earlier test stopped it and failed before restarting."""
    if not openbao.running:
        openbao.start()
    return openbao
