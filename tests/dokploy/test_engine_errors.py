"""Issue 16: an error the Dokploy provider raises on purpose reaches the `pulumi` CLI as its one line.

Pulumi's dynamic-provider host (pulumi/dynamic/__main__.py) reports every exception with its Python
traceback; components/provider_errors.py has our own errors (DokployError, VaultError) reported as the message alone,
while a bug keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.dokploy.errors import DokployError
from components.provider_errors import HOST_FILE, report_as_line
from dokploy_local.testing import LocalDokploy
from tests.dokploy.engine import COMPOSE_FILE, EngineRun, needs_pulumi

PROGRAM = f"""
import pulumi
from components.dokploy import Compose, ComposeDeployment, Environment, Project

project = Project("project", name="errors", description="errors")
env = Environment("env", project_id=project.project_id, name="staging")
compose = Compose("app", environment_id=env.environment_id, name="app", description="app",
                  compose_file={COMPOSE_FILE!r}, env={{"APP_ENV": pulumi.Config("t").get("rev") or "1"}})
ComposeDeployment.of("deploy", compose, [], timeout_seconds=pulumi.Config("t").get_int("timeout") or 60)
"""

TRACEBACK = "Traceback (most recent call last)"


def error_line(out: str, *needles: str) -> str:
    """The CLI's diagnostics line `error: <message>` carrying all needles, and no traceback anywhere."""
    lines = [line.strip() for line in out.splitlines() if all(n in line for n in needles)]
    assert lines, f"no line with {needles} in:\n{out}"
    assert TRACEBACK not in out and 'File "' not in out, out
    return lines[-1]


@needs_pulumi
@pytest.mark.engine
def test_a_failed_and_a_timed_out_deploy_are_one_line_in_the_cli(tmp_path: Path, dokploy: LocalDokploy) -> None:
    run = EngineRun(tmp_path, PROGRAM, dokploy, secrets={})

    dokploy.set_knobs(deploy_outcome="error")
    line = error_line(run.up(check=False), "error: deployment ", "ended with status 'error'")
    assert line.endswith("run `pulumi up` again to deploy again.") and "DeploymentFailedError" not in line

    # The deadline: the message names the stack config key users set, not the resource's argument.
    dokploy.set_knobs(deploy_outcome="done", deploy_duration_ms=120_000)
    run.config("t:timeout", "2")
    run.config("t:rev", "2")
    line = error_line(run.up(check=False), "error: deployment ", "after 2 s (the deadline)")
    assert "financeReport:deployTimeoutSeconds" in line and "timeout_seconds" not in line


HOST = """
def wrapper(method, context):  # the shape of the host's `_abort_with_traceback`
    try:
        return method()
    except Exception:
        import traceback
        context.abort("UNKNOWN", traceback.format_exc())
"""


class Context:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def abort(self, code: str, details: str) -> None:
        self.sent.append((code, details))


def host_call(method: Any) -> list[tuple[str, str]]:
    namespace: dict[str, Any] = {}
    exec(compile(HOST, f"/site-packages/{HOST_FILE}", "exec"), namespace)  # noqa: S102 - code of this test
    context = Context()
    namespace["wrapper"](method, context)
    return context.sent


def test_a_bug_keeps_its_traceback_and_our_error_is_its_message() -> None:
    def ours() -> None:
        raise DokployError("compose x was deleted; run `pulumi refresh`", procedure="compose.one")

    def bug() -> None:
        raise KeyError("composeId")

    ours, bug = report_as_line(ours, (DokployError,)), report_as_line(bug, (DokployError,))
    assert host_call(ours) == [("UNKNOWN", "compose x was deleted; run `pulumi refresh`")]
    [(code, details)] = host_call(bug)
    assert code == "UNKNOWN" and details.startswith(TRACEBACK) and details.endswith("KeyError: 'composeId'\n")


def test_a_vault_providers_error_is_its_message_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from components.vault import resources
    from components.vault.errors import VaultUnreachable, sealed

    def connect(*_args: Any, **_kwargs: Any) -> Any:
        raise VaultUnreachable(sealed("http://vault.example:8200"))

    monkeypatch.setattr(resources.VaultClient, "connect", connect)
    token, kv = resources.ServiceTokenProvider(), resources.KvSecretProvider()
    for call in (lambda: token.create({"policies": []}), lambda: kv.delete("x", {"purge_on_delete": True})):
        assert host_call(call) == [("UNKNOWN", sealed("http://vault.example:8200"))]
