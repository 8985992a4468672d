"""Hostile: a PR plants a pickle in its stack's state; the reaper (real CLI, local Dokploy server) reaps the
stack and the pickle never runs.

A PR job can write its own stack's state (the preview backend's credentials are repository secrets). The
engine's dynamic-provider Delete and Read `dill.loads` the `__provider` stored there, so `pulumi destroy`
or `refresh` on that state runs whatever the PR put in it, with the caller's environment. The planted
provider below writes the environment it sees to a file; the reaper, holding GH_ENVIRONMENTS_TOKEN, reaps
the closed PR's stack, and the file must never appear — while the stack's objects are still deleted
(through Dokploy's API), its GitHub environment too, and its state removed.
"""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from components.dokploy.markers import marker_for, tag_description
from components.environment import PREVIEW_PROJECT
from dokploy_local.testing import LocalDokploy
from tests.ops.fakes import FakeGitHub
from tests.support.dokploy import call_api
from tests.support.pulumi_cli import PULUMI, copy_repo_program, pulumi_available, pulumi_env

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

PULUMI_PROJECT = "finance-report"
MEMBER_KEY = "preview-member-key"
ADMIN_TOKEN = "ghp-environments-admin-token"


class _Planted:
    """Unpickling this runs `exec(code)`: what a PR can store as a dynamic resource's `__provider`."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (self.code,))


def planted_provider(proof: Path) -> str:
    code = f"import os, json; open({str(proof)!r}, 'w').write(json.dumps(dict(os.environ)))"
    return base64.b64encode(pickle.dumps(_Planted(code))).decode()


@pytest.fixture
def github_site() -> Iterator[tuple[str, FakeGitHub]]:
    """The GitHub REST stand-in (tests/ops/fakes.py) served on loopback, for a reaper run in a subprocess."""
    fake = FakeGitHub(pulls={7: "closed"}, environments={"pr-7"}, logins={"job-token": "github-actions[bot]"})
    fake.logins[ADMIN_TOKEN] = "admin"

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            req = httpx.Request(
                self.command,
                f"http://github.test{self.path}",
                headers=dict(self.headers),
                content=self.rfile.read(length),
            )
            resp = fake.handle(req)
            self.send_response(resp.status_code)
            self.send_header("content-length", str(len(resp.content)))
            self.end_headers()
            self.wfile.write(resp.content)

        do_GET = do_POST = do_PATCH = do_DELETE = _any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()


def pr_objects(dokploy: LocalDokploy) -> tuple[str, str, str]:
    """What pr-7's `pulumi up` left in the preview project: its marked environment and compose."""
    project = call_api(dokploy, "project.create", {"name": PREVIEW_PROJECT, "description": "Finance Report"})
    project_id = project["project"]["projectId"]
    dokploy.add_member_key(MEMBER_KEY, [project_id])
    env_marker = marker_for(PULUMI_PROJECT, "pr-7", "Environment", "pr-7-environment")
    env = call_api(
        dokploy,
        "environment.create",
        {"name": "pr-7", "projectId": project_id, "description": tag_description("Finance Report pr-7", env_marker)},
    )
    compose_marker = marker_for(PULUMI_PROJECT, "pr-7", "Compose", "pr-7-pr-7")
    compose = call_api(
        dokploy,
        "compose.create",
        {
            "name": "pr-7",
            "environmentId": env["environmentId"],
            "description": tag_description("Finance Report pr-7: pr-7", compose_marker),
        },
    )
    return project_id, env["environmentId"], compose["composeId"]


def test_a_pickle_planted_in_pr_state_never_runs_when_the_reaper_reaps_the_stack(
    tmp_path: Path, dokploy_server: LocalDokploy, github_site: tuple[str, FakeGitHub]
) -> None:
    github_url, github = github_site
    project_id, env_id, compose_id = pr_objects(dokploy_server)
    cli = copy_repo_program(tmp_path)
    proof = tmp_path / "pickle-ran.json"

    # The PR's job: its stack, with a dynamic resource whose stored provider is the PR's own code.
    cli.run("stack", "init", "pr-7")
    deployment = cli.export("pr-7")
    stack_urn = "urn:pulumi:pr-7::finance-report::pulumi:pulumi:Stack::finance-report-pr-7"
    provider_urn = "urn:pulumi:pr-7::finance-report::pulumi:providers:pulumi-python::default"
    planted = planted_provider(proof)
    deployment["deployment"]["resources"] = [  # type: ignore[index]
        {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack"},
        {
            "urn": provider_urn,
            "custom": True,
            "id": "0b9c3e5e-provider",
            "type": "pulumi:providers:pulumi-python",
            "parent": stack_urn,
        },
        {
            "urn": "urn:pulumi:pr-7::finance-report::pulumi-python:dynamic:Resource::pr-7-environment",
            "custom": True,
            "id": env_id,
            "type": "pulumi-python:dynamic:Resource",
            "inputs": {"__provider": planted, "name": "pr-7"},
            "outputs": {"__provider": planted, "name": "pr-7"},
            "parent": stack_urn,
            "provider": f"{provider_urn}::0b9c3e5e-provider",
        },
    ]
    state_file = tmp_path / "deployment.json"
    state_file.write_text(json.dumps(deployment))
    cli.run("stack", "import", "--stack", "pr-7", "--file", str(state_file))
    (cli.workdir / "Pulumi.pr-7.yaml").unlink(missing_ok=True)  # the reaper's fresh checkout has no PR stack file

    # The reaper job, as reaper.yml runs it (main's code), holding the environments admin token.
    env = pulumi_env(home=cli.home, state_dir=cli.state_dir, passphrase="finance-report-tests")
    env.update(
        PULUMI_BINARY=str(PULUMI),
        GITHUB_REPOSITORY="o/r",
        GITHUB_API_URL=github_url,
        GITHUB_TOKEN="job-token",
        GH_ENVIRONMENTS_TOKEN=ADMIN_TOKEN,
        DOKPLOY_URL=dokploy_server.url,
        DOKPLOY_API_KEY=MEMBER_KEY,
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
    )
    reap = subprocess.run(
        [sys.executable, "-m", "ops", "reap", "--ttl-hours", "168"],
        cwd=cli.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    if proof.exists():
        seen = sorted(k for k in json.loads(proof.read_text()) if "TOKEN" in k or "KEY" in k)
        pytest.fail(f"the planted provider ran in the reaper's engine, seeing {seen}")
    assert reap.returncode == 0, reap.stdout + reap.stderr
    # ...and the stack was still reaped: objects through Dokploy's API, the environment, the state.
    envs = call_api(dokploy_server, "environment.byProjectId", projectId=project_id)
    assert [e["environmentId"] for e in envs if not e.get("isDefault")] == []
    assert compose_id not in json.dumps(envs) and dokploy_server.count_objects()["composes"] == 0
    assert github.environments == set()
    assert "pr-7" not in cli.run("stack", "ls", "--json").stdout
    assert "environment " + env_id in (tmp_path / "summary.md").read_text()
