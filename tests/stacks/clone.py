"""A throwaway copy of this repository for engine tests that run the project's own scripts and stacks.

The copy has its own `.local/` (servers' data), `.pulumi-state/` and PULUMI_HOME, and its
Pulumi.local.yaml points at free loopback ports, so it never meets a developer's `make up`. The
virtualenv and tools are symlinked (read-only use). Helpers read the servers the way the tests count:
the Dokploy API with the owner key, OpenBao with the root token.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hvac
import yaml

from tests.support.pulumi_cli import REPO, pulumi_env

LOCAL_PASSPHRASE = "finance-report-local"
_IGNORE = shutil.ignore_patterns(
    ".venv", ".tools", ".pulumi-state", ".git", "__pycache__", ".local", ".mypy_cache", ".ruff_cache", "tests"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment_objects(snapshot: dict[str, Any], env_name: str) -> dict[str, Any]:
    """The objects of one environment: the environment, its composes, their domains and deployments."""
    envs = {k.split(":", 1)[1] for k, v in snapshot.items() if k.startswith("environment:") and v["name"] == env_name}
    composes = {
        k.split(":", 1)[1] for k, v in snapshot.items() if k.startswith("compose:") and v["environmentId"] in envs
    }
    return {
        k: v
        for k, v in snapshot.items()
        if (k.startswith("environment:") and k.split(":", 1)[1] in envs)
        or (k.startswith("compose:") and k.split(":", 1)[1] in composes)
        or (k.startswith(("domain:", "deployment:")) and (v.get("composeId") or v.get("compose")) in composes)
    }


def dokploy_snapshot(api: Callable[..., Any]) -> dict[str, Any]:
    """Every project, environment, compose (with its file and env), domain and deployment, by id, read through
    `api(procedure, **params)` (a Dokploy GET with the owner key)."""
    out: dict[str, Any] = {}
    for p in api("project.all"):
        project = api("project.one", projectId=p["projectId"])
        out[f"project:{p['projectId']}"] = {"name": project["name"], "description": project["description"]}
        for e in project["environments"]:
            out[f"environment:{e['environmentId']}"] = {"name": e["name"], "project": p["projectId"]}
            for c in e.get("compose") or []:
                one = api("compose.one", composeId=c["composeId"])
                out[f"compose:{c['composeId']}"] = {
                    k: one.get(k) for k in ("name", "environmentId", "composeFile", "env", "composeType", "appName")
                }
                for d in one.get("domains") or []:
                    out[f"domain:{d['domainId']}"] = {k: d.get(k) for k in ("host", "path", "port", "composeId")}
                for dep in api("deployment.allByCompose", composeId=c["composeId"]):
                    out[f"deployment:{dep['deploymentId']}"] = {"compose": c["composeId"], "status": dep["status"]}
    return out


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Clone:
    root: Path
    home: Path
    transcript: list[str]  # every command's output, for the secret-leak check

    @classmethod
    def create(cls, tmp: Path) -> Clone:
        root = tmp / "clone"
        shutil.copytree(REPO, root, ignore=_IGNORE)
        for name in (".venv", ".tools"):
            (root / name).symlink_to(REPO / name)
        config_file = root / "Pulumi.local.yaml"
        text = config_file.read_text()
        doc = yaml.safe_load(text)
        for key, port in (("dokploy:url", free_port()), ("vault:address", free_port())):
            text = text.replace(str(doc["config"][key]), f"http://127.0.0.1:{port}")
        config_file.write_text(text)
        home = tmp / "pulumi-home"
        home.mkdir()
        return cls(root=root, home=home, transcript=[])

    # --- processes --------------------------------------------------------------------------------

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = pulumi_env(
            home=self.home,
            state_dir=self.root / ".pulumi-state",
            passphrase=LOCAL_PASSPHRASE,
            drop=("PULUMI_", "VAULT_", "DOKPLOY_"),
        )
        env.update(extra or {})
        return env

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = 600,
        record: bool = True,  # False: what the test itself reads (decrypted exports), not what a user would see
    ) -> Run:
        proc = subprocess.run(
            list(args), cwd=self.root, env=self.env(env), capture_output=True, text=True, timeout=timeout, check=False
        )
        run = Run(list(args), proc.returncode, proc.stdout, proc.stderr)
        if record:
            self.transcript.append(run.output)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\n{run.output[-6000:]}")
        return run

    def script(self, name: str, *args: str, **kw: Any) -> Run:
        return self.run("bash", f"scripts/{name}", *args, **kw)

    def pulumi(self, *args: str, **kw: Any) -> Run:
        return self.run("pulumi", "--non-interactive", *args, **kw)

    # --- the servers --------------------------------------------------------------------------------

    @property
    def dokploy_url(self) -> str:
        return str(yaml.safe_load((self.root / "Pulumi.local.yaml").read_text())["config"]["dokploy:url"])

    @property
    def dokploy_key(self) -> str:
        return (self.root / ".local" / "dokploy" / "api-key").read_text().strip()

    @property
    def openbao_dir(self) -> Path:
        return self.root / ".local" / "openbao"

    @property
    def vault_address(self) -> str:
        return (self.openbao_dir / "address").read_text().strip()

    def stack_env(self, token_file: str = "stack-local.token") -> dict[str, str]:  # noqa: S107 - a file name
        """What a stack's providers need: the Dokploy key and a Vault identity (by file)."""
        return {
            "DOKPLOY_API_KEY": self.dokploy_key,
            "VAULT_ADDR": self.vault_address,
            "VAULT_TOKEN_FILE": str(self.openbao_dir / token_file),
        }

    def api(self, procedure: str, **params: Any) -> Any:
        r = httpx.get(f"{self.dokploy_url}/api/{procedure}", params=params, headers={"x-api-key": self.dokploy_key})
        r.raise_for_status()
        return r.json() if r.content else None

    def control(self, path: str, **params: Any) -> Any:
        r = httpx.get(f"{self.dokploy_url}/__local/{path}", params=params, headers={"x-api-key": self.dokploy_key})
        r.raise_for_status()
        return r.json()

    def writes_since(self, seq: int) -> list[dict[str, Any]]:
        return [r for r in self.control("requests", since=seq)["requests"] if r.get("kind") == "write"]

    def last_seq(self) -> int:
        requests = self.control("requests")["requests"]
        return int(requests[-1]["seq"]) if requests else 0

    def vault(self) -> hvac.Client:
        root = (self.openbao_dir / "root-token").read_text().strip()
        return hvac.Client(url=self.vault_address, token=root)

    def vault_envs(self) -> set[str]:
        """Environments that hold anything under secret/finance_report/ (counted on the server)."""
        try:
            keys = self.vault().secrets.kv.v2.list_secrets(path="finance_report", mount_point="secret")["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            return set()
        return {k.rstrip("/") for k in keys}

    def dokploy_snapshot(self) -> dict[str, Any]:
        return dokploy_snapshot(self.api)

    def state_text(self) -> str:
        parts = [p.read_text(errors="replace") for p in sorted((self.root / ".pulumi-state").rglob("*")) if p.is_file()]
        return "\n".join(parts)

    def stack_export(self, stack: str) -> dict[str, Any]:
        return dict(json.loads(self.pulumi("stack", "export", "--stack", stack, env=self.stack_env()).stdout))
