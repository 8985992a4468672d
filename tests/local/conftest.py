"""The embedded default as a newcomer meets it: `make up` on a clean copy, then a browser on its dashboard.

One copy of the repository per session (tests/stacks/clone.py: its own servers on free ports, its own
state), brought up once by `make up`; the tests after it each leave the `local` stack as they found it
(up, no pending change), so they can share it within the time budget. The browser is Debian's chromium
through its chromedriver (`make test-setup` installs both), headless, with a fresh profile.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.stacks.clone import Clone, Run
from tests.support.pulumi_cli import pulumi_available

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Generated values in the stacks' KV secrets (and values built from them).
SECRET_KEYS = {"POSTGRES_PASSWORD", "PASSWORD", "REDIS_PASSWORD", "MINIO_ROOT_PASSWORD", "DATABASE_URL", "REDIS_URL"}

needs_pulumi = pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi")


def make(clone: Clone, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None) -> Run:
    """`make ARGS` in the copy, as a user runs it (no make flags inherited from a surrounding make)."""
    environment = {k: v for k, v in clone.env(env).items() if not k.startswith(("MAKE", "MFLAGS"))}
    proc = subprocess.run(
        ["make", *args], cwd=clone.root, env=environment, input=stdin, capture_output=True, text=True, timeout=600
    )
    run = Run(["make", *args], proc.returncode, proc.stdout, proc.stderr)
    clone.transcript.append(run.output)
    if proc.returncode != 0:
        raise AssertionError(f"make {' '.join(args)} exited {proc.returncode}\n{run.output[-6000:]}")
    return run


@dataclass
class LocalUp:
    clone: Clone
    first_up: Run  # the output of the first `make up` on the clean copy
    artefacts: Path  # screenshots and pages, kept after the run

    def compose_ids(self, environment: str = "local") -> dict[str, str]:
        """compose name -> id, for one environment, read from the API."""
        out = {}
        for project in self.clone.api("project.all"):
            for env in project["environments"]:
                if env["name"] == environment:
                    out.update({c["name"]: c["composeId"] for c in env["compose"]})
        return out

    def latest_deployment(self, compose_id: str) -> dict[str, Any]:
        return dict(self.clone.api("deployment.allByCompose", composeId=compose_id)[0])

    def secrets(self, environments: tuple[str, ...] = ("local",)) -> list[str]:
        """Every secret value that must never appear on a page: keys, tokens, generated passwords."""
        clone = self.clone
        found = [clone.dokploy_key, (clone.openbao_dir / "root-token").read_text().strip()]
        found += [p.read_text().strip() for p in clone.openbao_dir.glob("stack-*.token")]
        vault = clone.vault()
        for environment in environments:
            for name, compose_id in self.compose_ids(environment).items():
                env_text = clone.api("compose.one", composeId=compose_id)["env"] or ""
                found += re.findall(r"VAULT_APP_TOKEN=\"?([^\"\n]+)", env_text)
                data = vault.secrets.kv.v2.read_secret_version(
                    path=f"finance_report/{environment}/{name}", mount_point="secret", raise_on_deleted_version=True
                )
                found += [v for k, v in data["data"]["data"].items() if k in SECRET_KEYS and v]
        return [s for s in found if s]


@pytest.fixture(scope="session")
def local_up(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[LocalUp]:
    if not pulumi_available():
        pytest.skip("run `make setup` to build .tools/bin/pulumi")
    tmp = tmp_path_factory.mktemp("local")
    clone = Clone.create(tmp)
    artefacts = tmp / "artefacts"
    artefacts.mkdir()
    try:
        yield LocalUp(clone, make(clone, "up"), artefacts)
    finally:
        subprocess.run(["bash", "scripts/local-servers.sh", "stop"], cwd=clone.root, capture_output=True, check=False)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        shots = sorted(artefacts.glob("*.png"))
        if reporter is not None and shots:
            reporter.write_line(f"tests/local: {len(shots)} screenshots in {artefacts}")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("run `make test-setup`: Debian's chromium and chromium-driver drive the dashboard tests")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())}")
    options.add_argument("--window-size=1400,1100")
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
