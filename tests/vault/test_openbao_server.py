"""The OpenBao helper: persistent raft storage, init material kept private, idempotent start, restart."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from components.vault import VaultClient, VaultConnection
from ops import openbao_server
from tests.support.leaks import assert_no_leak
from tests.support.openbao import OpenBao


def test_restart_keeps_data_and_unseals_with_the_kept_material(running_openbao: OpenBao) -> None:
    bao = running_openbao
    admin = bao.client()
    if "restart-test/" not in admin.sys.list_mounted_secrets_engines()["data"]:
        admin.sys.enable_secrets_engine("kv", path="restart-test", options={"version": "2"})
        VaultClient.connect(VaultConnection(address=bao.address), bao.env()).wait_kv_ready("restart-test")
    admin.secrets.kv.v2.create_or_update_secret("p", {"k": "survives"}, mount_point="restart-test")
    address, root = bao.address, bao.root_token
    try:
        bao.stop()
        assert not bao.running
    finally:
        bao.start()
    assert bao.address == address and bao.root_token == root  # same port, same init material
    assert not bao.client().sys.read_seal_status()["sealed"]
    got = bao.client().secrets.kv.v2.read_secret_version(
        "p", mount_point="restart-test", raise_on_deleted_version=False
    )
    assert got["data"]["data"] == {"k": "survives"}  # not -dev: an in-memory server would have lost it
    assert 'storage "raft"' in (bao.data_dir / "config.hcl").read_text()


def test_init_material_is_private(running_openbao: OpenBao) -> None:
    for name in (openbao_server.INIT_FILE, openbao_server.ROOT_TOKEN_FILE):
        mode = stat.S_IMODE((running_openbao.data_dir / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
    assert stat.S_IMODE(running_openbao.data_dir.stat().st_mode) == 0o700


def test_second_start_reuses_the_running_server(running_openbao: OpenBao) -> None:
    before = openbao_server.status(running_openbao.data_dir)
    info = openbao_server.start(running_openbao.data_dir)
    assert info.pid == before.pid and info.address == before.address


def test_cli_never_prints_the_token_or_unseal_key(running_openbao: OpenBao) -> None:
    material = (running_openbao.data_dir / openbao_server.INIT_FILE).read_text()
    import json

    secrets = [json.loads(material)["root_token"], *json.loads(material)["unseal_keys_b64"]]
    out = ""
    for action in ("start", "status"):
        proc = subprocess.run(
            [sys.executable, "-m", "ops.openbao_server", action, "--data-dir", str(running_openbao.data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        out += proc.stdout + proc.stderr
    assert running_openbao.address in out
    assert_no_leak(
        out + (running_openbao.data_dir / openbao_server.LOG_FILE).read_text(), secrets, "CLI output and server log"
    )


def test_a_server_on_the_remembered_port_that_is_not_ours_is_refused(running_openbao: OpenBao, tmp_path: Path) -> None:
    """A restart whose port another process took meanwhile must not adopt that server (and seal, write or
    delete in it): the start fails naming the port, and the server there is untouched."""
    port = int(openbao_server.address_port(running_openbao.address))
    with pytest.raises(openbao_server.PortTaken, match=f"port {port} is held by another process"):
        openbao_server.start(tmp_path / "other", port=port)
    assert openbao_server.status(tmp_path / "other").pid is None  # its own server did not stay behind
    assert running_openbao.client().sys.read_health_status(method="GET")["sealed"] is False
