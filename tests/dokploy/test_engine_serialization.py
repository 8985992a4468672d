"""Issue 4 build point 5: the provider is serialized by reference, so changed code still refreshes and destroys.

The provider code is copied into the project; after `up` it is edited (a probe that records every client
it builds, and a new User-Agent). `refresh` and `destroy` must then work and must run the *new* code:
state holds a reference to the provider class, not a stale copy of it or of any credentials.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from dokploy_local.testing import LocalDokploy
from tests.dokploy.engine import EngineRun, needs_pulumi, objects

PROGRAM = """
import pulumi
from components.dokploy import Compose, Environment, Project

project = Project("project", name="finance_report")
env = Environment("env", project_id=project.id, name="staging")
Compose("app", environment_id=env.id, name="app", compose_file="services: {}\\n",
        env={"TOKEN": pulumi.Config("t").require_secret("token")})
"""

PROBE = """

_original_init = DokployClient.__init__


def _probing_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    with open(os.environ["PROVIDER_PROBE"], "a") as probe:
        probe.write(self._http.headers["user-agent"] + "\\n")


DokployClient.__init__ = _probing_init
"""


@needs_pulumi
@pytest.mark.engine
@pytest.mark.slow
def test_changed_provider_code_still_refreshes_and_destroys(tmp_path: Path, dokploy: LocalDokploy) -> None:
    run = EngineRun(tmp_path, PROGRAM, dokploy, secrets={"t:token": "serialized-secret-9"}, copy_code=True)
    run.up()
    state = run.resources()
    pickled = base64.b64decode(state["app"]["outputs"]["__provider"])
    assert b"components.dokploy.compose" in pickled and b"ComposeProvider" in pickled  # a reference to the class
    assert dokploy.api_key.encode() not in pickled and dokploy.url.encode() not in pickled  # nothing captured

    client = run.cli.workdir / "components" / "dokploy" / "client.py"
    text = client.read_text().replace('"finance-report-dokploy-provider/1"', '"finance-report-dokploy-provider/2"')
    client.write_text(text + PROBE)
    probe = tmp_path / "probe.txt"
    run.cli.extra_env["PROVIDER_PROBE"] = str(probe)

    run.refresh()
    assert probe.read_text().splitlines().count("finance-report-dokploy-provider/2") >= 3  # one per resource read
    run.destroy()
    assert objects(dokploy)["projects"] == 0 and objects(dokploy)["composes"] == 0
    run.writes_since_last()
    run.assert_no_leaks()
