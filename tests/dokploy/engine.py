"""Helpers for the engine tests: a Pulumi project using the Dokploy resources, run by the real CLI."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dokploy_local.testing import LocalDokploy
from tests.dokploy.conftest import check_server_requests
from tests.support.leaks import assert_no_leak
from tests.support.pulumi_cli import REPO, PulumiCLI, make_project, pulumi_available

STACK = "dev"
needs_pulumi = pytest.mark.skipif(not pulumi_available(), reason="the pulumi CLI is not built: run `make setup`")

COMPOSE_FILE = textwrap.dedent(
    """\
    services:
      web:
        image: nginx:alpine
        environment:
          APP_ENV: ${APP_ENV}
      api:
        image: traefik/whoami
        env_file: .env
    """
)


class EngineRun:
    """One project + stack against one local Dokploy; every CLI output is kept for the leak check."""

    def __init__(
        self, tmp: Path, program: str, server: LocalDokploy, *, secrets: dict[str, str], copy_code: bool = False
    ):
        files = {}
        if copy_code:  # the provider code lives in the project itself, so a test can change it
            shared = [REPO / "components" / name for name in ("__init__.py", "provider_errors.py")]
            for path in [*shared, *sorted((REPO / "components" / "dokploy").glob("*.py"))]:
                files[str(path.relative_to(REPO))] = path.read_text()
        self.cli: PulumiCLI = make_project(tmp, program, files=files)
        self.cli.extra_env.update(DOKPLOY_DEPLOY_POLL_SECONDS="0.2", DOKPLOY_DEPLOY_APPEAR_GRACE_SECONDS="10")
        if not copy_code:
            self.cli.extra_env["PYTHONPATH"] = str(REPO)
        self.server = server
        self.secrets = [server.api_key, *secrets.values()]
        self.outputs: list[str] = []
        self.log_args: tuple[str, ...] = ()  # e.g. ("-v=3", "--logtostderr", "--logflow") to check logs too
        self.seq = 0
        self.cli.run("stack", "init", STACK)
        self.config("dokploy:url", server.url)
        self.config("dokploy:apiKey", server.api_key, secret=True)
        for key, value in secrets.items():
            self.config(key, value, secret=True)

    def config(self, key: str, value: str, *, secret: bool = False) -> None:
        # The value goes on stdin: never on a command line, and newlines survive.
        self.cli.run("config", "set", "--stack", STACK, key, *(["--secret"] if secret else []), input=value)

    def run(self, *args: str, check: bool = True) -> str:
        proc = self.cli.run(*args, "--stack", STACK, *self.log_args, check=False)
        text = proc.stdout + proc.stderr
        self.outputs.append(text)
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {proc.returncode}\n{text}")
        if not check:
            assert proc.returncode != 0, f"pulumi {' '.join(args)} was expected to fail\n{text}"
        return text

    def up(self, check: bool = True) -> str:
        return self.run("up", "--yes", "--skip-preview", check=check)

    def preview(self, *extra: str, check: bool = True) -> str:
        return self.run("preview", "--diff", *extra, check=check)

    def refresh(self) -> str:
        return self.run("refresh", "--yes", "--skip-preview", "--diff")

    def destroy(self) -> str:
        return self.run("destroy", "--yes", "--skip-preview")

    def writes_since_last(self) -> Counter[str]:
        """Successful mutations since the previous call, checked against the OpenAPI document."""
        entries = self.server.requests(self.seq)
        self.seq = check_server_requests(self.server, self.seq)
        return Counter(e["procedure"] for e in entries if e["kind"] == "write" and e["status"] == 200)

    def resources(self) -> dict[str, dict[str, Any]]:
        state = self.cli.export(STACK)["deployment"]
        assert isinstance(state, dict)
        return {r["urn"].rsplit("::", 1)[1]: r for r in state.get("resources") or []}

    def assert_no_leaks(self) -> None:
        assert_no_leak(self.cli.state_text(), self.secrets, "the state backend")
        assert_no_leak("\n".join(self.outputs), self.secrets, "CLI output")
        logs = [p.read_text(errors="replace") for p in self.cli.home.rglob("*.log") if p.is_file()]
        if logs:
            assert_no_leak("\n".join(logs), self.secrets, "Pulumi logs")


def objects(server: LocalDokploy) -> dict[str, int]:
    counts = server.count_objects()
    return {k: counts[k] for k in ("projects", "environments", "composes", "domains", "deployments")}
