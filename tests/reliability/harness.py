"""Run one stack of the program against the real servers and see what changed on them.

`Servers` is the session's local Dokploy server and OpenBao, with the shared projects already made by the
`local` stack (as after its `make up`), so that PR stacks, production and a second owner stack find them.

`run_program(stack, config, environ)` runs `components.program.run()` in this process the way the Pulumi
language host does (stack name, config, environment), with Pulumi mocks standing in for the engine only:
the program's own config checks and preflight really talk to the servers. It returns the program's
one-line error (None if it registered its resources, which under mocks reach no server either).

`Snapshot` is what "no change" is measured by: the Dokploy request log's writes since a sequence number
(from the server's control API) and OpenBao's KV versions and token accessors (listed with the root token).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac
import pulumi

from components import program
from components.dokploy.markers import marker_for, tag_description
from components.environment import environment_for
from components.vault.client import VaultClient
from components.vault.connection import VaultConnection, forget_logins
from components.vault.keys import KeyClass, secret_layout
from dokploy_local.testing import LocalDokploy
from tests.stacks.clone import dokploy_snapshot
from tests.stacks.mocks import Recorder
from tests.support.leaks import MIN_SECRET_LEN, find_leaks, secrets_in_export
from tests.support.openbao import OpenBao
from tests.support.pulumi_cli import PulumiCLI

PROJECT = "finance-report"


def free_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@dataclass
class Servers:
    dokploy: LocalDokploy
    openbao: OpenBao
    projects: dict[str, str]  # shared project name -> id, made as the local stack makes them
    member_key: str

    def seed_owner_projects(self) -> None:
        for name in ("finance_report", "finance_report-preview"):
            description = tag_description("Finance Report", marker_for(PROJECT, "local", "Project", name))
            created = self.call("project.create", {"name": name, "description": description})
            self.projects[name] = str(created["project"]["projectId"])

    def call(self, procedure: str, body: dict[str, Any]) -> Any:
        import httpx

        r = httpx.post(f"{self.dokploy.url}/api/{procedure}", json=body, headers={"x-api-key": self.dokploy.api_key})
        r.raise_for_status()
        return r.json()

    def default_environment(self, project: str) -> str:
        """The id of a shared project's default environment (production's, in the main project)."""
        environments = self.api("project.one", projectId=self.projects[project])["environments"]
        return str(next(e["environmentId"] for e in environments if e.get("isDefault")))

    def api(self, procedure: str, **params: Any) -> Any:
        """A Dokploy query with the owner key."""
        import httpx

        r = httpx.get(f"{self.dokploy.url}/api/{procedure}", params=params, headers={"x-api-key": self.dokploy.api_key})
        r.raise_for_status()
        return r.json() if r.content else None

    def snapshot(self) -> dict[str, Any]:
        """Every object on the Dokploy server by `kind:id` (tests/stacks/clone.py `dokploy_snapshot`)."""
        return dokploy_snapshot(self.api)

    def object_ids(self) -> dict[str, str]:
        """Every environment, compose and domain the Dokploy server stores: id -> kind (for a compose its
        composeStatus). Read from its database, read-only, so the API's fault knobs do not get in the way."""
        import sqlite3

        db = sqlite3.connect(f"file:{self.dokploy.data_dir / 'dokploy.sqlite3'}?mode=ro", uri=True)
        try:
            found = {str(i): t for t in ("environment", "domain") for (i,) in db.execute(f"SELECT id FROM {t}")}  # noqa: S608
            for i, data in db.execute("SELECT id, data FROM compose"):
                found[str(i)] = str(json.loads(data).get("composeStatus"))
        finally:
            db.close()
        return found

    # --- what changed -------------------------------------------------------------------------------

    def last_seq(self) -> int:
        log = self.dokploy.requests()
        return int(log[-1]["seq"]) if log else 0

    def dokploy_writes(self, since: int) -> list[str]:
        return [f"{r['procedure']} -> {r['status']}" for r in self.dokploy.requests(since) if r.get("kind") == "write"]

    def vault_state(self) -> dict[str, Any]:
        """Every KV path under the mount with its current version, and the token accessors (root's view)."""
        client = self.openbao.client()
        paths: dict[str, int] = {}

        def walk(prefix: str) -> None:
            try:
                keys = client.secrets.kv.v2.list_secrets(path=prefix, mount_point="secret")["data"]["keys"]
            except hvac.exceptions.InvalidPath:
                return
            for key in keys:
                if key.endswith("/"):
                    walk(prefix + key)
                else:
                    meta = client.secrets.kv.v2.read_secret_metadata(path=prefix + key, mount_point="secret")
                    paths[prefix + key] = int(meta["data"]["current_version"])

        walk("")
        accessors = client.auth.token.list_accessors()["data"]["keys"]
        return {"kv": paths, "tokens": len(accessors)}

    # --- secret leaks -------------------------------------------------------------------------------

    def kv_secrets(self, stack: str) -> set[str]:
        return kv_secrets(self.openbao.client(), stack)

    def keys(self) -> list[str]:
        return [self.dokploy.api_key, self.openbao.root_token, self.member_key]


def kv_secrets(client: hvac.Client, stack: str, image_tag: str | None = None) -> set[str]:
    """The generated and provided values a stack keeps in Vault (its layout says which keys those are; derived
    ones are made of them or are plain hosts), read with an admin client. `image_tag`: for a stack whose model
    needs one (production)."""
    values: set[str] = set()
    for secret in secret_layout(environment_for(stack, {"imageTag": image_tag} if image_tag else None)):
        names = {k.name for k in secret.keys if k.cls is not KeyClass.DERIVED}
        try:
            data = client.secrets.kv.v2.read_secret_version(
                path=secret.path, mount_point="secret", raise_on_deleted_version=False
            )["data"]["data"]
        except hvac.exceptions.InvalidPath:
            continue
        values |= {str(v) for k, v in (data or {}).items() if k in names and len(str(v)) >= MIN_SECRET_LEN}
    return values


def stack_secrets(servers: Servers, cli: PulumiCLI, stack: str) -> set[str]:
    """Every secret of a stack that is up: the servers' keys, what it generated in Vault and what its state
    holds as secrets (derived values, minted tokens). Read before `destroy`, which removes them."""
    export = json.loads(cli.run("stack", "export", "--stack", stack, "--show-secrets").stdout)
    return set(servers.keys()) | servers.kv_secrets(stack) | secrets_in_export(export)


def dokploy_logs(requests: list[dict[str, Any]], data_dir: Path) -> dict[str, str]:
    """What a local Dokploy logs: its request log and its log files (`dokploy.log`: failed deploy commands, as
    real Dokploy prints them). Not the deploy commands it runs: a PR compose's env holds its own agent token by
    design (docs/security-secrets.md §1) and Dokploy writes env files through those commands (§4, whose test
    checks them for every other stack)."""
    places = {"Dokploy request log": json.dumps(requests)}
    for f in sorted(data_dir.glob("*.log")):
        places[f"Dokploy {f.name}"] = f.read_text(errors="replace")
    return places


def pulumi_logs(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted((home / "logs").rglob("*")) if p.is_file())


def leaks_in(places: Mapping[str, str], secrets: set[str]) -> list[str]:
    """Known secrets found (raw, base64, URL-encoded, JSON-escaped) in each place: one description per leak,
    naming where, no values."""
    return [f"{where}: {leak}" for where, text in places.items() for leak in find_leaks(text, secrets)]


def leak_sweep(
    servers: Servers, cli: PulumiCLI, secrets: set[str], *outputs: str, state: str | None = None
) -> list[str]:
    """A stack's secrets in its state (`state`: every byte of its backend; default the copy's own file backend),
    the CLI output given, our logs (the Pulumi home's) and the local Dokploy's."""
    state = cli.state_text() if state is None else state
    places = {"state": state, "CLI output": "\n".join(outputs), "our logs": pulumi_logs(cli.home)}
    return leaks_in({**places, **dokploy_logs(servers.dokploy.requests(), servers.dokploy.data_dir)}, secrets)


def run_program(stack: str, config: Mapping[str, str], environ: Mapping[str, str | None]) -> str | None:
    """The program's run for `stack` with this config and environment: its error line, or None."""
    forget_logins()  # a login cached by an earlier case must not hide this one's credentials
    with _environ(environ):
        pulumi.runtime.set_mocks(Recorder(), project=PROJECT, stack=stack, preview=False)
        pulumi.runtime.set_all_config(dict(config))

        @pulumi.runtime.test
        def go() -> None:
            program.run()

        try:
            go()
        except pulumi.RunError as exc:
            return str(exc)
    return None


@contextmanager
def _environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    saved = dict(os.environ)
    for k in [k for k in os.environ if k.startswith(("DOKPLOY_", "VAULT_", "PULUMI_CONFIG"))]:
        del os.environ[k]
    for k, v in changes.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _public_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def admit_pr_stack(address: str, root_token: str, pr: int, token_file: Path | None = None) -> None:
    """What an admin and the PR admission job do for pr-<N>: the bootstrap (JWT mount trusting a throwaway key,
    as no GitHub OIDC is reachable here), PR N's entity and token role, and optionally the stack's token."""
    from ops.vault_bootstrap import BootstrapOptions, JwtConfig, admit_pr, bootstrap, ensure_stack_token

    admin = VaultClient.connect(VaultConnection(address=address), {"VAULT_TOKEN": root_token})
    opts = BootstrapOptions(
        groups=("local", "preview"),
        repository_id="123456789",  # what GitHub would give; the JWT roles are bound to it
        jwt=JwtConfig(pubkeys=(_public_pem(),), discovery_url=None),
    )
    bootstrap(admin, opts)
    admit_pr(admin, pr)
    if token_file is not None:
        ensure_stack_token(admin, "preview", token_file, pr_number=pr)
