"""Bad inputs through the real `pulumi up` (what a user sees): one line, no traceback, no server write.

The table (test_bad_input.py) runs the program in process; these show the CLI prints the same one line and
nothing else of ours (the historic failures were tracebacks the CLI printed: httpx's ConnectError,
LocalProtocolError for a key with a newline, and silence for a misspelt key).
"""

from __future__ import annotations

import re

import pytest

from tests.reliability import report
from tests.reliability.conftest import OWNER_KEY
from tests.reliability.harness import Servers
from tests.stacks.clone import LOCAL_PASSPHRASE
from tests.support.leaks import find_leaks
from tests.support.pulumi_cli import PulumiCLI, copy_repo_program, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

CASES = {
    # id: (config changes, env changes, expected message)
    "cli-unknown-key": (
        {"financeReport:imagTag": "v2"},
        {},
        r"unknown config key financeReport:imagTag: did you mean financeReport:imageTag\?",
    ),
    "cli-dokploy-key-newline": (
        {},
        {"DOKPLOY_API_KEY": OWNER_KEY + "\nsecond-line"},
        r"the Dokploy API key .* contains a space, line break or non-ASCII character",
    ),
    "cli-dokploy-https-on-http": (
        {"dokploy:url": "https://127.0.0.1:{port}"},
        {},
        r"Dokploy settings.getDokployVersion: cannot connect to https://127.0.0.1:\d+",
    ),
}


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, servers: Servers) -> PulumiCLI:
    cli = copy_repo_program(tmp_path_factory.mktemp("cli"))
    cli.extra_env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
    cli.run("stack", "init", "local")
    for key, value in {"dokploy:url": servers.dokploy.url, "vault:address": servers.openbao.address}.items():
        cli.run("config", "set", "--stack", "local", key, value)
    return cli


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_input_through_the_cli_is_one_line(case_id: str, cli: PulumiCLI, servers: Servers) -> None:
    config, env_changes, expect = CASES[case_id]
    port = servers.dokploy.url.rsplit(":", 1)[1]
    for key, value in config.items():
        cli.run("config", "set", "--stack", "local", key, value.replace("{port}", port))
    env = {"DOKPLOY_API_KEY": OWNER_KEY, "VAULT_TOKEN": servers.openbao.root_token, **env_changes}
    seq = servers.last_seq()
    try:
        proc = cli.up("local", env=env, check=False)
    finally:
        for key in config:
            if key == "dokploy:url":
                cli.run("config", "set", "--stack", "local", key, servers.dokploy.url)
            else:
                cli.run("config", "rm", "--stack", "local", key)
    out = proc.stdout + proc.stderr
    # Pulumi repeats a program's error in its progress line and its diagnostics: compare the messages.
    ours = {line[line.find("error: ") :].strip() for line in out.splitlines() if re.search(expect, line)}
    writes = servers.dokploy_writes(seq)
    leaks = find_leaks(out, [OWNER_KEY, servers.openbao.root_token])
    ok = proc.returncode != 0 and "Traceback" not in out and len(ours) == 1 and not writes and not leaks
    report.record(
        report.Row(
            id=case_id,
            group="cli",
            input=f"pulumi up --stack local with {config or {k: '<changed>' for k in env_changes}}",
            result="pass" if ok else "FAIL",
            objects="no change / " + ("no change" if not writes else f"{len(writes)} write(s)"),
            leaks=str(len(leaks)),
            message=next(iter(ours), out.strip().splitlines()[-1] if out.strip() else ""),
        )
    )
    assert proc.returncode != 0, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert len(ours) == 1, out[-3000:]
    assert writes == []
    assert not leaks, leaks
