"""VaultSecrets through the real pulumi CLI against the real OpenBao (issue 5, acceptance 1, 2 and 5).

One project, several stacks, run in order (each test builds on the state the previous left): `local`
with the bootstrap-minted local stack token, `pr-7`/`pr-8` with the PR-stacks JWT identity, `staging`
with the staging JWT identity. Every CLI output is kept for the leak check at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import pytest

from components.environment import environment_for
from components.vault.authority import approle_role
from components.vault.ensure import references
from components.vault.keys import BACKUP_KEYS, KeyClass, secret_layout
from ops.vault_bootstrap import issue_agent_credentials
from tests.support.leaks import Secret, assert_no_leak, digest, hide
from tests.support.openbao import OpenBao
from tests.support.pulumi_cli import REPO, PulumiCLI, make_project, pulumi_available
from tests.vault.conftest import Authority

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
    pytest.mark.filterwarnings("ignore:The raise_on_deleted_version parameter"),  # hvac's own patch()
]

PROGRAM = """
import pulumi
from components.environment import environment_for
from components.vault import VaultConnection
from components.vault.component import VaultSecrets, VaultSecretsArgs

cfg = pulumi.Config("t")
stack = pulumi.get_stack()
env = environment_for(stack, {"imageTag": "sha-0000000"} if stack == "staging" else {})
vault = VaultSecrets(
    "vault",
    VaultSecretsArgs(env=env, connection=VaultConnection(address=cfg.require("vaultAddress")),
                     rotation=cfg.get("rotation") or ""),
)
pulumi.export("tokens", vault.tokens)
pulumi.export("paths", vault.paths)
"""


@dataclass
class Run:
    cli: PulumiCLI
    authority: Authority = field(repr=False)
    # repr=False: a failing test's traceback shows its arguments, and must not show these
    outputs: list[str] = field(default_factory=list, repr=False)  # every CLI stdout/stderr, for the leak check
    secrets: set[str] = field(default_factory=set, repr=False)  # every value seen (KV values, tokens), old and new

    def env_for(self, stack: str) -> dict[str, str]:
        a = self.authority
        token = {"local": a.local_token, "staging": a.identity("staging")}.get(stack) or a.identity(stack)
        return {"VAULT_ADDR": a.address, "VAULT_TOKEN": token}

    def pulumi(self, *args: str, stack: str, check: bool = True) -> Any:
        proc = self.cli.run(*args, "--stack", stack, check=False, env=self.env_for(stack))
        self.outputs.append(proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {args[0]} {stack} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def up(self, stack: str, check: bool = True) -> Any:
        return self.pulumi("up", "--yes", "--skip-preview", stack=stack, check=check)

    def init(self, stack: str) -> None:
        self.pulumi("stack", "init", stack=stack)
        self.pulumi("config", "set", "t:vaultAddress", self.authority.address, stack=stack)

    def tokens(self, stack: str) -> dict[str, str]:
        raw = self.cli.outputs(stack)["tokens"]
        assert isinstance(raw, dict)
        tokens = hide(raw)
        self.secrets.update(tokens.values())
        return tokens

    def kv(self, path: str) -> dict[str, str]:
        resp = self.authority.admin().secrets.kv.v2.read_secret_version(
            path, mount_point="secret", raise_on_deleted_version=True
        )
        data = hide(dict(resp["data"]["data"]))
        service = path.rsplit("/", 1)[1]
        self.secrets.update(v for k, v in data.items() if (service, k) in SECRET_KEYS and v)
        return data

    def kv_version(self, path: str) -> int:
        meta = self.authority.admin().secrets.kv.v2.read_secret_metadata(path, mount_point="secret")
        return int(meta["data"]["current_version"])


def _secret_keys() -> set[tuple[str, str]]:
    """(service, key) of generated and provided keys and of derived keys built from one of them;
    constants (S3_BUCKET, S3_ENDPOINT, pr-<N>'s MinIO user) are public."""
    envs = [environment_for("local"), environment_for("pr-8"), environment_for("staging", {"imageTag": "sha-0000000"})]
    secret: set[tuple[str, str]] = set()
    for env in envs:
        for spec in secret_layout(env):  # derived keys only reference earlier keys (keys.py)
            for k in spec.keys:
                if k.cls is not KeyClass.DERIVED or any(ref in secret for ref in references(k.template)):
                    secret.add((spec.service, k.name))
    return secret


SECRET_KEYS = _secret_keys()
LOCAL_PATHS = [f"finance_report/local/{s}" for s in ("postgres", "redis", "app")]


@pytest.fixture(scope="module")
def run(authority: Authority, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    cli = make_project(tmp_path_factory.mktemp("vault-stack"), PROGRAM)
    cli.extra_env["PYTHONPATH"] = str(REPO)
    r = Run(cli, authority)
    yield r


def reads(bao: OpenBao, token: str, path: str) -> bool:
    try:
        hvac.Client(url=bao.address, token=token).secrets.kv.v2.read_secret_version(
            path, mount_point="secret", raise_on_deleted_version=True
        )
    except hvac.exceptions.Forbidden:
        return False
    return True


def test_up_ensures_kv_mints_no_credential_and_a_second_up_changes_nothing(run: Run) -> None:
    run.init("local")
    run.up("local")
    first = {p: run.kv(p) for p in LOCAL_PATHS}
    pg, rd, app = (first[p] for p in LOCAL_PATHS)
    assert len(pg["POSTGRES_PASSWORD"]) >= 24 and len(rd["PASSWORD"]) >= 24
    assert digest(app["DATABASE_URL"]) == digest(
        f"postgresql+asyncpg://postgres:{pg['POSTGRES_PASSWORD']}@finance_report-postgres-local:5432/finance_report"
    )
    assert digest(app["REDIS_URL"]) == digest(f"redis://:{rd['PASSWORD']}@finance_report-redis-local:6379/0")
    assert set(app) == {"DATABASE_URL", "REDIS_URL", "S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY",
                        "OPENROUTER_API_KEY"}  # fmt: skip
    # local's vault-agents log in with host-issued AppRole secret_ids: the stack mints no credential at all
    assert run.tokens("local") == {}
    assert "ServiceToken" not in run.cli.state_text()
    versions = {p: run.kv_version(p) for p in LOCAL_PATHS}

    second = run.up("local")
    assert "5 unchanged" in second.stdout, second.stdout
    assert " created" not in second.stdout and " updated" not in second.stdout and "replaced" not in second.stdout
    run.pulumi("preview", "--expect-no-changes", stack="local")
    assert {p: run.kv_version(p) for p in LOCAL_PATHS} == versions  # nothing was even rewritten
    again = {p: run.kv(p) for p in LOCAL_PATHS}
    assert {p: {k: digest(v) for k, v in d.items()} for p, d in again.items()} == {
        p: {k: digest(v) for k, v in d.items()} for p, d in first.items()
    }


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def test_every_value_in_the_decrypted_state_is_worthless_against_vault(run: Run) -> None:
    """Hostile (finding 1): whoever decrypts a trusted stack's state (a PR could decrypt staging's on main,
    and found each service's year-long token there) and tries every value in it gets nothing from Vault:
    no value is a token, and none is an agent's secret_id."""
    proc = run.cli.run("stack", "export", "--stack", "local", "--show-secrets", env=run.env_for("local"))
    values = sorted({s for s in _strings(json.loads(proc.stdout)) if len(s) >= 16})
    assert len(values) > 20  # the whole state: URNs, inputs, fingerprints, salts...
    bao = hvac.Client(url=run.authority.address)
    worked = []
    for value in values:
        try:
            hvac.Client(url=run.authority.address, token=value).auth.token.lookup_self()
            worked.append(f"token {digest(value)}")
        except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest, hvac.exceptions.InvalidPath):
            pass
        for service in ("postgres", "redis", "app"):
            try:
                bao.auth.approle.login(approle_role("local", service), value)
                worked.append(f"secret_id of {service} {digest(value)}")
            except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden):
                pass
    assert worked == []


def test_an_agent_s_approle_login_reads_its_own_path_and_is_denied_every_other(run: Run, tmp_path: Path) -> None:
    """What a HOST_FILE vault-agent does: role_id (the role's name) + the secret_id file the admin issued."""
    admin = run.authority.admin_client()
    issue_agent_credentials(admin, "local", tmp_path)
    env = environment_for("local")
    tokens: dict[str, str] = {}
    for service in env.services:
        secret_id = Secret((tmp_path / f"{env.compose_app_name(service)}.secret-id").read_text().strip())
        run.secrets.add(secret_id)
        assert oct((tmp_path / f"{env.compose_app_name(service)}.secret-id").stat().st_mode & 0o777) == "0o600"
        login = hvac.Client(url=run.authority.address).auth.approle.login(approle_role("local", service), secret_id)
        tokens[service] = Secret(login["auth"]["client_token"])
        run.secrets.add(tokens[service])
        assert login["auth"]["lease_duration"] <= 3600  # short-lived: the agent renews and logs in again
    everything = [
        *LOCAL_PATHS,
        "finance_report/staging/app",
        "finance_report/production/app",
        "finance_report/pr-7/pr-7",
    ]
    for service, token in tokens.items():
        own = f"finance_report/local/{service}"
        assert reads(run.authority.bao, token, own), f"{service} cannot read {own}"
        assert [p for p in everything if p != own and reads(run.authority.bao, token, p)] == []
        info = run.authority.as_token(token).lookup_self()
        assert info["policies"] == [f"finance_report-local-{service}"]  # no default policy
    # a rotation replaces every file; the old secret_ids no longer log in
    old = {p.name: Secret(p.read_text().strip()) for p in tmp_path.glob("*.secret-id")}
    issue_agent_credentials(admin, "local", tmp_path, rotate=True)
    for name, secret_id in old.items():
        run.secrets.add(secret_id)
        service = name.removesuffix(".secret-id").rsplit("-", 1)[1]
        with pytest.raises((hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden)):
            hvac.Client(url=run.authority.address).auth.approle.login(approle_role("local", service), secret_id)


def test_hand_set_values_survive_and_derived_values_follow_their_sources(run: Run) -> None:
    admin = run.authority.admin()
    hand = Secret("hand-set-redis-password-0123456789")
    admin.secrets.kv.v2.patch("finance_report/local/redis", {"PASSWORD": hand}, mount_point="secret")
    run.secrets.add(hand)
    run.up("local")
    assert digest(run.kv("finance_report/local/redis")["PASSWORD"]) == digest(hand)  # generated: never overwritten
    app = run.kv("finance_report/local/app")
    assert digest(app["REDIS_URL"]) == digest(f"redis://:{hand}@finance_report-redis-local:6379/0")  # source moved

    custom = Secret("redis://:elsewhere-by-hand-0123456789@other-host:6379/1")
    admin.secrets.kv.v2.patch("finance_report/local/app", {"REDIS_URL": custom}, mount_point="secret")
    run.secrets.add(custom)
    run.up("local")
    assert digest(run.kv("finance_report/local/app")["REDIS_URL"]) == digest(custom)  # same sources: kept

    admin.secrets.kv.v2.create_or_update_secret(
        "finance_report/local/app", {k: v for k, v in run.kv("finance_report/local/app").items() if k != "S3_BUCKET"},
        mount_point="secret",
    )  # fmt: skip
    out = run.up("local").stdout
    assert "updated" in out and run.kv("finance_report/local/app")["S3_BUCKET"] == "statements"  # a lost key returns


def test_a_missing_provided_key_fails_with_its_name(run: Run) -> None:
    run.init("staging")
    # The backup destination is set (tests/vault/test_preflight.py checks it is named when it is not) ...
    destination = dict.fromkeys(BACKUP_KEYS, "set-by-the-operator")
    run.authority.admin().secrets.kv.v2.create_or_update_secret(
        "finance_report/staging/postgres", destination, mount_point="secret"
    )
    # ... the app's own provided keys are not.
    proc = run.up("staging", check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "secret/finance_report/staging/app" in text
    assert "S3_ACCESS_KEY" in text and "OPENROUTER_API_KEY" in text


def test_pr_stacks_side_by_side_and_destroy_leaves_nothing_of_one(run: Run) -> None:
    for pr in ("pr-7", "pr-8"):
        run.init(pr)
        run.up(pr)
    t7, t8 = run.tokens("pr-7")["pr-7"], run.tokens("pr-8")["pr-8"]  # Secret: asserts show digests
    bao = run.authority.bao
    assert reads(bao, t7, "finance_report/pr-7/pr-7") and not reads(bao, t7, "finance_report/pr-8/pr-8")
    assert not reads(bao, t7, "finance_report/staging/app") and not reads(bao, t7, "finance_report/local/app")
    run.kv("finance_report/pr-7/pr-7")
    run.kv("finance_report/pr-8/pr-8")
    run.pulumi("destroy", "--yes", "--skip-preview", stack="pr-7")
    assert run.authority.as_token(t7).token_valid() is None
    with pytest.raises(hvac.exceptions.InvalidPath):
        run.authority.admin().secrets.kv.v2.read_secret_metadata("finance_report/pr-7/pr-7", mount_point="secret")
    assert reads(bao, t8, "finance_report/pr-8/pr-8")  # the neighbour is untouched
    run.pulumi("stack", "rm", "--yes", stack="pr-7")


def test_pr_token_rotation_replaces_the_token_and_revokes_the_old_one(run: Run) -> None:
    old = run.tokens("pr-8")
    run.pulumi("config", "set", "t:rotation", "2026-07", stack="pr-8")
    out = run.up("pr-8").stdout
    assert "replaced" in out, out
    new = run.tokens("pr-8")
    for service in old:
        assert digest(new[service]) != digest(old[service])
        assert run.authority.as_token(old[service]).token_valid() is None, f"old {service} token still valid"
        assert reads(run.authority.bao, new[service], f"finance_report/pr-8/{service}")


def test_no_secret_value_in_state_cli_output_or_logs(run: Run) -> None:
    for path in [*LOCAL_PATHS, "finance_report/pr-8/pr-8"]:
        run.kv(path)
    run.tokens("pr-8")
    assert len(run.secrets) >= 15
    home_logs = "\n".join(p.read_text(errors="replace") for p in Path(run.cli.home).rglob("*.log") if p.is_file())
    server_log = (run.authority.bao.data_dir / "bao.log").read_text(errors="replace")
    stack_files = "\n".join(p.read_text() for p in run.cli.workdir.glob("Pulumi.*.yaml"))
    assert_no_leak(run.cli.state_text(), run.secrets, "the state backend")
    assert_no_leak("\n".join(run.outputs), run.secrets, "pulumi CLI output")
    assert_no_leak(home_logs + server_log + stack_files, run.secrets, "logs and stack files")
