"""Taking over a live deployment, then production's protection (issue 7, acceptance 6 and 4).

On the local Dokploy server we first build what the real system has by hand: project finance_report with
its default environment `production`, an environment `staging` holding composes postgres, redis and app
(GitHub-sourced, as infra2 deployed them) and the app's two domains. Then:

- a `staging` stack adopting them by id (config financeReport:adopt) previews without replace or delete,
  and its `up` keeps every adopted id;
- a `production` stack (images by digest from a real registry) finds the project through staging's
  ownership marker, adopts the default environment, comes up; `pulumi destroy` of it - and of staging -
  is refused, and every object is still on the server.

Real CLI, local Dokploy server, a private OpenBao and a private registry.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dokploy_local.testing import LocalDokploy
from tests.reliability import report
from tests.reliability.harness import dokploy_logs, kv_secrets, leaks_in, pulumi_logs
from tests.stacks.clone import LOCAL_PASSPHRASE
from tests.support.leaks import secrets_in_export
from tests.support.openbao import OpenBao, openbao_in
from tests.support.pulumi_cli import REPO, PulumiCLI, copy_repo_program, pulumi_available
from tests.support.registry import OciLayout, Registry, running_registry, skopeo_copy

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

BASE = "example.test"
REPOSITORY = "acme/finance_report"
RELEASE = "v1.0.0"
USERS = {"ci": ("ci-secret", ("pull", "push")), "reader": ("reader-secret", ("pull",))}
PROVIDED = {
    "S3_ACCESS_KEY": "live-access-key",
    "S3_SECRET_KEY": "live-secret-key-0123456789",
    "OPENROUTER_API_KEY": "k",
}


BACKUP_DESTINATION = {
    "BACKUP_S3_ENDPOINT": "https://backups.example.test",
    "BACKUP_S3_BUCKET": "finance-report-backups",
    "BACKUP_S3_ACCESS_KEY": "backup-access-key",
    "BACKUP_S3_SECRET_KEY": "backup-secret-key-0123456789",
}


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with running_registry(tmp_path / "registry", USERS) as reg:
        layout = OciLayout(tmp_path / "oci")
        for component in ("backend", "frontend"):
            layout.name(component, layout.image(f"{component} {RELEASE}"))
            dest = f"docker://{reg.address}/{REPOSITORY}-{component}:{RELEASE}"
            skopeo_copy(f"oci:{layout.path}:{component}", dest, "ci:ci-secret", home=tmp_path)
        yield reg


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[OpenBao]:
    yield from openbao_in(tmp_path / "openbao")


class Live:
    """The hand-made deployment, through Dokploy's API with the owner key."""

    def __init__(self, server: LocalDokploy) -> None:
        self.server = server

    def call(self, procedure: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        headers = {"x-api-key": self.server.api_key}
        url = f"{self.server.url}/api/{procedure}"
        r = (
            httpx.post(url, json=body, headers=headers)
            if body is not None
            else httpx.get(url, params=params, headers=headers)
        )
        r.raise_for_status()
        return r.json()

    def build(self) -> dict[str, Any]:
        created = self.call("project.create", {"name": "finance_report", "description": "made by hand"})
        project, production = created["project"]["projectId"], created["environment"]["environmentId"]
        staging = self.call("environment.create", {"projectId": project, "name": "staging"})["environmentId"]
        composes = {}
        for name in ("postgres", "redis", "app"):
            row = self.call(
                "compose.create", {"name": name, "environmentId": staging, "appName": f"finance_report-{name}"}
            )
            self.call(
                "compose.update",
                {
                    "composeId": row["composeId"],
                    "sourceType": "github",
                    "githubId": "126refcRlCoWj6pmPXElU",
                    "owner": "wangzitian0",
                    "repository": "infra2",
                    "branch": "main",
                    "composePath": f"finance_report/finance_report/{name}/compose.yaml",
                    "env": "ENV=staging\nIMAGE_TAG=sha-1111111\nVAULT_APP_TOKEN=hand-made-token",
                },
            )
            composes[name] = row["composeId"]
        domains = {}
        for key, path, port, service in (("api", "/api", 8000, "backend"), ("web", "/", 3000, "frontend")):
            row = self.call(
                "domain.create",
                {
                    "composeId": composes["app"],
                    "domainType": "compose",
                    "serviceName": service,
                    "host": f"report-staging.{BASE}",
                    "path": path,
                    "port": port,
                    "https": True,
                    "certificateType": "letsencrypt",
                    "stripPath": key == "api",  # the seed stripped /api; adoption corrects it in place
                },
            )
            domains[key] = row["domainId"]
        return {
            "project": project,
            "production": production,
            "staging": staging,
            "composes": composes,
            "domains": domains,
        }

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in self.call("project.all"):
            one = self.call("project.one", projectId=p["projectId"])
            for env in one["environments"]:
                for c in env.get("compose") or []:
                    row = self.call("compose.one", composeId=c["composeId"])
                    out[c["composeId"]] = (env["name"], row["name"], [d["domainId"] for d in row.get("domains") or []])
                out[env["environmentId"]] = (p["name"], env["name"])
            out[p["projectId"]] = p["name"]
        return out


def _bootstrap(vault: OpenBao, env: str, token_file: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "ops.vault_bootstrap", "--env", env, "--no-jwt", "--stack-token-file", str(token_file)],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **vault.env()},
        check=True,
        capture_output=True,
    )
    vault.client().secrets.kv.v2.create_or_update_secret(
        path=f"finance_report/{env}/app", secret=PROVIDED, mount_point="secret"
    )
    # The backup destination (docs/data.md): the operator's, in the postgres secret.
    vault.client().secrets.kv.v2.create_or_update_secret(
        path=f"finance_report/{env}/postgres", secret=BACKUP_DESTINATION, mount_point="secret"
    )


def _stack(cli: PulumiCLI, name: str, config: dict[str, str], adopt: dict[str, Any] | None = None) -> None:
    cli.run("stack", "init", name)
    for key, value in config.items():
        cli.run("config", "set", "--stack", name, "--", key, value)
    for path, value in _leaves("financeReport:adopt", adopt or {}):
        cli.run("config", "set", "--stack", name, "--path", "--", path, value)


def _leaves(prefix: str, tree: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(f"{prefix}.{key}", value)
        else:
            yield f"{prefix}.{key}", str(value)


def _record_release(vault: OpenBao, registry: Registry, staging_token: str) -> None:
    from components.images import ReleaseRecords, registry_resolver
    from components.oci import Credentials
    from components.vault.client import VaultClient
    from components.vault.connection import VaultConnection

    resolve = registry_resolver(Credentials("reader", "reader-secret"))
    digests = {c: resolve(f"{registry.address}/{REPOSITORY}-{c}", RELEASE) for c in ("backend", "frontend")}
    client = VaultClient.for_token(staging_token, VaultConnection(address=vault.address))
    ReleaseRecords(client).record(RELEASE, digests)


def test_adopt_live_staging_then_production_is_protected(
    tmp_path: Path, dokploy_server: LocalDokploy, vault: OpenBao, registry: Registry
) -> None:
    live = Live(dokploy_server)
    ids = live.build()
    cli = copy_repo_program(tmp_path)
    cli.extra_env["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_PASSPHRASE
    common = {
        "dokploy:url": dokploy_server.url,
        "vault:address": vault.address,
        "financeReport:baseDomain": BASE,
        "financeReport:manageGithub": "false",  # no GitHub plugin here
        "financeReport:deployTimeoutSeconds": "60",
    }
    keys = {"DOKPLOY_API_KEY": dokploy_server.api_key}

    # staging adopts the live objects by id: the preview replaces and deletes nothing.
    _bootstrap(vault, "staging", tmp_path / "staging.token")
    adopt = {
        "projects": {"finance_report": ids["project"]},
        "environment": ids["staging"],
        "composes": ids["composes"],
        "domains": ids["domains"],
    }
    _stack(cli, "staging", {**common, "financeReport:imageTag": "sha-abc1234"}, adopt)
    staging_env = {**keys, "VAULT_TOKEN_FILE": str(tmp_path / "staging.token")}
    preview = cli.run("preview", "--stack", "staging", "--json", env=staging_env)
    outputs = [preview.stdout + preview.stderr]
    ops = {s["urn"].rsplit("::", 1)[1]: s["op"] for s in json.loads(preview.stdout)["steps"]}
    assert not {n: op for n, op in ops.items() if op not in ("create", "same")}, ops
    up = cli.run("up", "--stack", "staging", "--yes", "--skip-preview", env=staging_env)
    outputs.append(up.stdout + up.stderr)
    out = cli.outputs("staging")
    assert out["dokploy"]["compose_ids"] == ids["composes"]  # type: ignore[index]
    assert out["dokploy"]["domain_ids"] == ids["domains"]  # type: ignore[index]
    assert out["dokploy"]["environment_id"] == ids["staging"]  # type: ignore[index]
    api = live.call("domain.one", domainId=ids["domains"]["api"])
    assert (api["stripPath"], api["path"], api["port"]) == (False, "/api", 8000)  # corrected in place
    assert len(live.call("environment.one", environmentId=ids["staging"])["compose"]) == 3

    # staging's workflow releases v1.0.0: its identity records the digests production may run.
    _record_release(vault, registry, (tmp_path / "staging.token").read_text().strip())

    # production: found through staging's marker, the default environment adopted, images by digest.
    _bootstrap(vault, "production", tmp_path / "production.token")
    _stack(
        cli,
        "production",
        {
            **common,
            "financeReport:imageTag": RELEASE,
            "financeReport:imageRepository": f"{registry.address}/{REPOSITORY}",
        },
    )
    production_env = {
        **keys,
        "VAULT_TOKEN_FILE": str(tmp_path / "production.token"),
        "REGISTRY_USERNAME": "reader",
        "REGISTRY_PASSWORD": "reader-secret",
    }
    up = cli.run("up", "--stack", "production", "--yes", "--skip-preview", env=production_env)
    outputs.append(up.stdout + up.stderr)
    out = cli.outputs("production")
    assert out["dokploy"]["environment_id"] == ids["production"]  # type: ignore[index]
    assert all("@sha256:" in ref for ref in dict(out["images"]).values())  # type: ignore[call-overload]

    # destroy is refused: production's data services, staging's project and data services are protected.
    before = live.snapshot()
    said = []
    for stack, env in (("production", production_env), ("staging", staging_env)):
        refused = cli.run("destroy", "--stack", stack, "--yes", env=env, check=False)
        text = refused.stdout + refused.stderr
        outputs.append(text)
        assert refused.returncode != 0 and "protected" in text, text[-3000:]
        urns = re.findall(r'resource "(urn:pulumi:[^"]+)"\s+cannot be deleted\s+because it is protected', text)
        assert urns, text[-3000:]
        said.append(f"{stack}: refused, {urns[0].rsplit('::', 1)[1]} is protected (nothing deleted)")
    assert live.snapshot() == before
    secrets = {dokploy_server.api_key, vault.root_token, "reader-secret", "ci-secret"}
    for stack, env, tag in (("production", production_env, RELEASE), ("staging", staging_env, "sha-abc1234")):
        secrets |= kv_secrets(vault.client(), stack, tag) | {Path(env["VAULT_TOKEN_FILE"]).read_text().strip()}
        export = cli.run("stack", "export", "--stack", stack, "--show-secrets", env=env).stdout
        secrets |= secrets_in_export(json.loads(export))
    places = {"state": cli.state_text(), "CLI output": "\n".join(outputs), "our logs": pulumi_logs(cli.home)}
    leaks = leaks_in({**places, **dokploy_logs(dokploy_server.requests(), dokploy_server.data_dir)}, secrets)
    assert not leaks, leaks
    report.scenario(
        "production-and-shared-projects-not-destroyable",
        "protection",
        "`pulumi destroy` of production, then of staging (which owns the shared projects)",
        " / ".join(said),
        objects="unchanged / unchanged (Dokploy snapshot)",
        leaks=f"0 of {len(secrets)} secrets",
    )
    composes = {(v[0], v[1]) for v in before.values() if isinstance(v, tuple) and len(v) == 3}
    assert composes >= {
        ("production", "postgres"),
        ("production", "redis"),
        ("staging", "postgres"),
        ("staging", "redis"),
    }
    assert before[ids["project"]] == "finance_report"
