"""The bad-input table (cases.py): each case fails before any change, with one line naming what is wrong.

The program runs in process as the language host would run it (harness.py), against the session's local
Dokploy server and OpenBao. For each case: the run fails; the message is one line matching the case, with
no traceback and no credential in it; the Dokploy request log shows no write and OpenBao's KV versions and
token accessors are unchanged. The control cases show the same setup passes with nothing wrong, so each
failure is the input's.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from components.environment import environment_for
from components.vault.keys import KeyClass, secret_layout
from tests.reliability import report
from tests.reliability.cases import BASE_CONFIG, CASES, COMMON_CONFIG, Case
from tests.reliability.conftest import OWNER_KEY
from tests.reliability.harness import Servers, free_url, run_program
from tests.reliability.standins import stand_in
from tests.support.leaks import find_leaks
from tests.support.registry import OciLayout, running_registry, skopeo_copy


def _fill(value: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), value)


def _merge(base: dict[str, str], changes: dict[str, str | None], values: dict[str, str]) -> dict[str, str]:
    out = dict(base)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _fill(v, values)
    return {k: _fill(v, values) for k, v in out.items()}


@contextmanager
def _condition(name: str | None, servers: Servers) -> Iterator[dict[str, str]]:
    """Server conditions a case needs; yields environment changes. Undone afterwards."""
    if name == "vault-sealed":
        servers.openbao.client().sys.seal()
        try:
            yield {}
        finally:
            servers.openbao.restart()  # start unseals it again (ops.openbao_server)
    elif name == "weak-token":
        admin = servers.openbao.client()
        token = admin.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
        try:
            yield {"VAULT_TOKEN": token}
        finally:
            admin.auth.token.revoke(token)
    elif name in ("registry-empty", "registry-unreleased"):
        with _production_registry(servers, images=name == "registry-unreleased") as env:
            yield env
    else:
        yield {}


READER = ("reader", "reader-" + secrets.token_hex(8))
PUSHER = ("ci", "ci-" + secrets.token_hex(8))


@contextmanager
def _production_registry(servers: Servers, *, images: bool) -> Iterator[dict[str, str]]:
    """A registry for production's image check: empty, or holding v1.0.0 images staging never released.
    Production's provided keys are put in Vault first (and removed after), so the image check is reached."""
    admin = servers.openbao.client()
    provided = {
        secret.path: {k.name: f"provided-{k.name.lower()}" for k in secret.keys if k.cls is KeyClass.PROVIDED}
        for secret in secret_layout(environment_for("production", {"imageTag": "v1.0.0"}))
    }
    for path, data in provided.items():
        if data:
            admin.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point="secret")
    root = Path(tempfile.mkdtemp(prefix="bad-input-registry-"))
    users = {READER[0]: (READER[1], ("pull",)), PUSHER[0]: (PUSHER[1], ("pull", "push"))}
    try:
        with running_registry(root / "registry", users) as reg:
            repository = f"{reg.address}/acme/finance_report"
            if images:
                layout = OciLayout(root / "oci")
                for component in ("backend", "frontend"):
                    layout.name(component, layout.image(f"{component} v1.0.0"))
                    dest = f"docker://{repository}-{component}:v1.0.0"
                    skopeo_copy(f"oci:{layout.path}:{component}", dest, ":".join(PUSHER), home=root)
            yield {"REGISTRY": repository, "REGISTRY_READ_USERNAME": READER[0], "REGISTRY_READ_PASSWORD": READER[1]}
    finally:
        for path, data in provided.items():
            if data:
                admin.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point="secret")
        shutil.rmtree(root, ignore_errors=True)


def run_case(case: Case, servers: Servers) -> tuple[str | None, list[str], bool, dict[str, Any]]:
    """(message, Dokploy writes, Vault unchanged, the values filled in) for one case."""
    with stand_in("html") as html, stand_in("old") as old, _condition(case.condition, servers) as extra_env:
        extra_env = dict(extra_env)
        port = servers.dokploy.url.rsplit(":", 1)[1]
        values = {
            "dokploy": servers.dokploy.url,
            "port": port,
            "vault": servers.openbao.address,
            "free": free_url(),
            "html": html.url,
            "old": old.url,
            "key": OWNER_KEY,
            "member": servers.member_key,
            "main": servers.projects["finance_report"],
            "production_env": servers.default_environment("finance_report"),
            "registry": extra_env.pop("REGISTRY", ""),
        }
        config = _merge({**COMMON_CONFIG, **BASE_CONFIG.get(case.stack, {})}, case.config, values)
        environ = _merge({"DOKPLOY_API_KEY": OWNER_KEY, "VAULT_TOKEN": servers.openbao.root_token}, {}, values)
        environ.update(extra_env)
        env_changes = {k: (None if v is None else _fill(v, values)) for k, v in case.env.items()}
        seq = servers.last_seq()
        vault_before = servers.vault_state() if case.condition != "vault-sealed" else None
        message = run_program(case.stack, config, {**environ, **env_changes})
        writes = servers.dokploy_writes(seq) + [f"{m} {p}" for m, p in html.writes() + old.writes()]
        # Sealed, nothing can be read or written: there is nothing to compare until it is unsealed.
        vault_same = vault_before is None or servers.vault_state() == vault_before
    return message, writes, vault_same, values


@pytest.mark.engine
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_before_any_change_with_one_line(case: Case, servers: Servers) -> None:
    message, writes, vault_same, _ = run_case(case, servers)
    secrets = [OWNER_KEY, servers.member_key, servers.openbao.root_token]
    leaks = find_leaks(message or "", secrets)
    ok = (
        message is not None
        and "\n" not in message
        and "Traceback" not in message
        and re.search(case.expect, message) is not None
        and not writes
        and vault_same
        and not leaks
    )
    report.record(
        report.Row(
            id=case.id,
            group=case.group,
            input=case.describe(),
            result="pass" if ok else "FAIL",
            objects="no change / " + ("no change" if not writes and vault_same else f"{len(writes)} write(s)"),
            leaks=str(len(leaks)),
            message=message or "(no error: the run went through)",
        )
    )
    assert message is not None, "the run went through"
    assert "\n" not in message and "Traceback" not in message, message
    assert re.search(case.expect, message), message
    assert writes == [], writes
    assert vault_same, "OpenBao changed"
    assert not leaks, leaks


@pytest.mark.engine
# production also needs its provided keys and released images, and staging is the second owner stack on this
# server (see the cases vault-provided-secret-missing and second-owner-stack): their failures are the point.
@pytest.mark.parametrize("stack", ["local", "pr-7"])
def test_control_each_base_config_passes(stack: str, servers: Servers) -> None:
    """Without the bad input, the same run registers its resources (under mocks: still no server write)."""
    message, writes, vault_same, _ = run_case(Case("control", "control", stack, ""), servers)
    assert message is None
    assert writes == [] and vault_same
