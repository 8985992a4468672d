"""The reliability suite's servers (one local Dokploy server and one OpenBao per session; an S3 server for the
tests that ask for it) and its ledger.

The ledger collects every case's and scenario's result; at the end of the session RELIABILITY.md is
rewritten from it (rows of cases that did not run this time keep their last result, see report.py).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokploy_local.testing import running_server
from tests.reliability import report
from tests.reliability.harness import Servers
from tests.support.openbao import OpenBao, openbao, running_openbao  # noqa: F401  (fixtures)
from tests.support.pulumi_cli import REPO
from tests.support.s3 import s3_server  # noqa: F401  (fixture: the S3 state backend, for the parallel stacks)

OWNER_KEY = "reliability-owner-key-5d1f0c"
MEMBER_KEY = "reliability-member-key-77ab12"


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory, openbao: OpenBao) -> Iterator[Servers]:  # noqa: F811
    # The Vault bootstrap `make up` runs for local: KV mount, policies, token roles.
    subprocess.run(
        [sys.executable, "-m", "ops.vault_bootstrap", "--env", "local", "--env", "preview", "--no-jwt"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **openbao.env()},
        check=True,
        capture_output=True,
    )
    with running_server(tmp_path_factory.mktemp("dokploy"), api_key=OWNER_KEY) as dokploy:
        s = Servers(dokploy=dokploy, openbao=openbao, projects={}, member_key=MEMBER_KEY)
        s.seed_owner_projects()
        dokploy.add_member_key(MEMBER_KEY, [s.projects["finance_report"]])
        yield s


def pytest_sessionfinish(session: pytest.Session) -> None:
    if report.LEDGER:
        report.write(Path(REPO) / "RELIABILITY.md")
