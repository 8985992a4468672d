"""Everything a workflow run meets, started on loopback for the pipeline tests, and the repository itself.

`World` holds:
- `origin`: a bare git repository with this project's tree on `main` (plus the commit an installer makes:
  the staging and production stack files pointed at the local servers), PR refs (`refs/pull/<N>/head`,
  `refs/pull/<N>/merge`) and tags; the checkout stand-in clones from it;
- the local Dokploy server (`dokploy_local`), OpenBao bootstrapped by `ops.vault_bootstrap` with its JWT
  auth trusting the OIDC stand-in's key, the local registry (token auth) standing in for GHCR, the GitHub
  API stand-in, and the network stand-in (`edge.py`) that routes ghcr.io, GitHub's API and the app hosts;
- file state backends, one per trust zone (`PULUMI_BACKEND_URL_PREVIEW`, `_STAGING`, `_PRODUCTION`).

`World.run(workflow, event_name, event)` clones the repository at the event's commit and runs the whole
workflow file under act, with the repository's variables and secrets as GitHub would hold them.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components.dokploy.markers import marker_for, tag_description
from components.environment import PREVIEW_PROJECT, PROJECT
from components.oci import Credentials, ManifestNotFound, RegistryClient
from components.vault.authority import REPOSITORY, transit_key
from components.vault.client import VaultClient
from components.vault.connection import VaultConnection
from dokploy_local.testing import LocalDokploy, running_server
from ops.vault_bootstrap import BootstrapOptions, JwtConfig, bootstrap
from tests.pipeline import act
from tests.pipeline.edge import Edge, SimulatedApp
from tests.pipeline.github_api import BOT, GITHUB_ISSUER, REPOSITORY_ID, GitHubStandIn, RunContext
from tests.support.openbao import OpenBao
from tests.support.pulumi_cli import PULUMI, REPO, TOOLS_BIN, VENV, pulumi_env
from tests.support.registry import OciLayout, Registry, running_registry, skopeo_copy

PULUMI_PROJECT = "finance-report"
ACTOR = "octo-dev"
RELEASE_APP_ID = "4242"
RELEASE_APP = "finance-report-release[bot]"
GHCR_BACKEND = "ghcr-backend"  # the registry user the Packages API stand-in lists and deletes as
# Dokploy keys as the repository admins would create them (docs/workflows.md "Identities").
MEMBER_KEY = "preview-member-key"  # DOKPLOY_PREVIEW_API_KEY: a member limited to the preview project
NO_ACCESS_KEY = "no-access-member-key"  # DOKPLOY_NO_ACCESS_API_KEY: a member of no project
PRODUCTION_KEY = "production-member-key"  # DOKPLOY_PRODUCTION_API_KEY: a member of finance_report
OBSERVER_KEY = "observer-member-key"  # DOKPLOY_OBSERVER_API_KEY: the same access, for read-only jobs
# A tiny stand-in of the application's source where the image build looks for it (components.images
# build_plan: apps/<component>), so the build stand-in has a context to package.
FIXTURE_APP = {
    "apps/backend/Dockerfile": 'FROM python:3.11-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n',
    "apps/backend/main.py": "print('finance report backend (fixture)')\n",
    "apps/frontend/Dockerfile": "FROM node:22-alpine\nCOPY . /app\n",
    "apps/frontend/index.html": "<html>finance report frontend (fixture)</html>\n",
}
_SKIP = {".git", ".venv", ".tools", ".pulumi-state", ".local", "bench", "__pycache__", ".mypy_cache", ".ruff_cache"}


def git(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "GIT_AUTHOR_NAME": "Octo Dev",
        "GIT_AUTHOR_EMAIL": "octo@example.com",
        "GIT_COMMITTER_NAME": "Octo Dev",
        "GIT_COMMITTER_EMAIL": "octo@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    proc = subprocess.run(["git", *args], cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def project_files() -> list[str]:
    """The project's files as a checkout has them: tracked and new (not ignored) files of the work tree."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [p for p in out.split("\0") if p and (REPO / p).is_file() and not (set(Path(p).parts) & _SKIP)]


@dataclass
class World:
    root: Path
    dokploy: LocalDokploy  # staging and production (their stack files' dokploy:url)
    pr_dokploy: LocalDokploy  # PR environments and the reaper (the DOKPLOY_URL variable): their own instance
    openbao: OpenBao
    registry: Registry
    github: GitHubStandIn
    edge: Edge
    origin: Path
    site: Path  # a working clone to author commits in
    token: str  # the runs' GITHUB_TOKEN (the bot)
    push_token: str  # GHCR_PUSH_TOKEN: write on the release packages (staging environment)
    release_app_key: str  # RELEASE_APP_PRIVATE_KEY: the release GitHub App's key (PEM)
    projects: dict[str, str] = field(default_factory=dict)
    _runs: Iterator[int] = field(default_factory=lambda: itertools.count(9001))
    _installed: bool = False
    # One working clone authors every commit: scenarios running in parallel take turns with it.
    _site_lock: threading.RLock = field(default_factory=threading.RLock)
    _flows: dict[str, Future[Any]] = field(default_factory=dict)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=3))

    def start_flow(self, name: str, flow: Callable[[World], Any]) -> None:
        """Run a scenario's whole sequence of workflow runs in the background (independent scenarios overlap)."""
        if name not in self._flows:
            self._flows[name] = self._pool.submit(flow, self)

    def flow(self, name: str, flow: Callable[[World], Any]) -> Any:
        """The result of a scenario's sequence: started now unless already running in the background."""
        self.start_flow(name, flow)
        return self._flows[name].result()

    # ---- the repository ----------------------------------------------------------------------
    def commit(self, branch: str, files: Mapping[str, str], message: str, base: str = "main") -> str:
        """A commit on `branch` (created from `base`) changing `files`; pushed to origin. Returns its sha."""
        with self._site_lock:
            return self._commit(branch, files, message, base)

    def _commit(self, branch: str, files: Mapping[str, str], message: str, base: str) -> str:
        git("fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=self.site)
        start = f"origin/{branch}" if git("ls-remote", "origin", f"refs/heads/{branch}", cwd=self.site) else base
        if not start.startswith("origin/") and start != "HEAD":
            start = f"origin/{start}"
        git("checkout", "-q", "--detach", start, cwd=self.site)
        for path, text in files.items():
            target = self.site / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            git("add", path, cwd=self.site)
        git("commit", "-q", "--allow-empty", "-m", message, cwd=self.site)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=self.site)
        return git("rev-parse", "HEAD", cwd=self.site)

    def pull_request_refs(self, number: int, head: str) -> str:
        """refs/pull/<N>/head and the merge commit refs/pull/<N>/merge GitHub computes; returns the merge sha."""
        with self._site_lock:
            return self._pull_request_refs(number, head)

    def _pull_request_refs(self, number: int, head: str) -> str:
        git("fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=self.site)
        git("checkout", "-q", "--detach", "origin/main", cwd=self.site)
        git("merge", "-q", "--no-ff", "-m", f"Merge {head} into main", head, cwd=self.site)
        merge = git("rev-parse", "HEAD", cwd=self.site)
        refs = (f"{head}:refs/pull/{number}/head", f"{merge}:refs/pull/{number}/merge")
        git("push", "-q", "-f", "origin", *refs, cwd=self.site)
        return merge

    def install_stacks(self) -> None:
        """The admins' one-time steps before staging and production deploy (README, docs/workflows.md):
        `pulumi stack init` of both stacks on their Vault transit keys, committed to main with the
        encryptedkey it writes; and the operator's own keys in Vault (the `provided` ones)."""
        with self._site_lock:
            if not self._installed:
                self._install_stacks()
                self._installed = True

    def _install_stacks(self) -> None:
        git("fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=self.site)
        git("checkout", "-q", "--detach", "origin/main", cwd=self.site)
        kv = self.openbao.client().secrets.kv.v2
        for stack in ("staging", "production"):
            env = pulumi_env(home=self.root / "pulumi-home", state_dir=self.root / "state" / stack, passphrase="unused")
            env.update(VAULT_ADDR=self.openbao.address, VAULT_TOKEN=self.openbao.root_token)
            provider = f"hashivault://{transit_key(stack)}"
            proc = subprocess.run(
                [str(PULUMI), "--non-interactive", "stack", "init", stack, "--secrets-provider", provider],
                cwd=self.site, env=env, capture_output=True, text=True,
            )  # fmt: skip
            if proc.returncode != 0:
                raise RuntimeError(f"pulumi stack init {stack}: {proc.stderr.strip()}")
            git("add", f"Pulumi.{stack}.yaml", cwd=self.site)
            operator = {"S3_ACCESS_KEY": f"{stack}-s3-user", "S3_SECRET_KEY": secrets.token_hex(16)}
            kv.create_or_update_secret(
                f"finance_report/{stack}/app", {**operator, "OPENROUTER_API_KEY": "or-key"}, mount_point="secret"
            )
            # The backup destination (docs/data.md, docs/first-day.md): the operator's, in the postgres secret.
            destination = {
                "BACKUP_S3_ENDPOINT": "https://backups.example.test",
                "BACKUP_S3_BUCKET": f"finance-report-backups-{stack}",
                "BACKUP_S3_ACCESS_KEY": f"{stack}-backup-user",
                "BACKUP_S3_SECRET_KEY": secrets.token_hex(16),
            }
            kv.create_or_update_secret(f"finance_report/{stack}/postgres", destination, mount_point="secret")
        git("commit", "-q", "-m", "stack init staging and production (Vault transit secrets providers)", cwd=self.site)
        git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=self.site)

    def has_workflow(self, name: str, ref: str = "main") -> bool:
        path = f"{ref}:.github/workflows/{name}"
        return (
            subprocess.run(
                ["git", "--git-dir", str(self.origin), "cat-file", "-e", path], capture_output=True
            ).returncode
            == 0
        )

    def sha(self, ref: str) -> str:
        return git("--git-dir", str(self.origin), "rev-parse", ref, cwd=self.root)

    def tags(self) -> list[str]:
        return git("--git-dir", str(self.origin), "tag", "--list", cwd=self.root).split()

    # ---- what GitHub holds ---------------------------------------------------------------------
    def variables(self) -> dict[str, str]:
        state = self.root / "state"
        return {
            "VAULT_ADDR": self.openbao.address,
            "DOKPLOY_URL": self.pr_dokploy.url,
            "DOKPLOY_PREVIEW_URL": self.pr_dokploy.url,  # PR environments on their own Dokploy instance
            "PULUMI_BACKEND_URL_PREVIEW": f"file://{state / 'preview'}",
            "PULUMI_BACKEND_URL_STAGING": f"file://{state / 'staging'}",
            "PULUMI_BACKEND_URL_PRODUCTION": f"file://{state / 'production'}",
            "RELEASE_APP_ID": RELEASE_APP_ID,
            "GHCR_PUSH_USERNAME": "release-pusher",
        }

    def secrets(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": self.token,
            "DOKPLOY_PREVIEW_API_KEY": MEMBER_KEY,
            "DOKPLOY_NO_ACCESS_API_KEY": NO_ACCESS_KEY,
            "DOKPLOY_STAGING_API_KEY": self.dokploy.api_key,  # the owner stack creates the shared projects
            "DOKPLOY_PRODUCTION_API_KEY": PRODUCTION_KEY,
            "DOKPLOY_OBSERVER_API_KEY": OBSERVER_KEY,
            "GH_ENVIRONMENTS_TOKEN": "environments-token",
            "GH_ADMIN_TOKEN": "admin-token",
            "GHCR_PUSH_TOKEN": self.push_token,
            # base64: one line in act's env file (ops app-token accepts either form)
            "RELEASE_APP_PRIVATE_KEY": base64.b64encode(self.release_app_key.encode()).decode(),
            "GH_READONLY_TOKEN": "readonly-token",
            "DOKPLOY_STAGING_OBSERVER_API_KEY": OBSERVER_KEY,
        }

    # ---- running a workflow ----------------------------------------------------------------------
    def run(
        self,
        workflow: str,
        event_name: str,
        event: dict[str, Any],
        *,
        sha: str,
        ref: str,
        variables: Mapping[str, str] | None = None,
    ) -> act.ActRun:
        """One workflow run under act; then, as GitHub would, the runs it started through the API
        (`gh workflow run`: workflow_dispatch), each at the head of the ref it named. `variables`: repository
        variables set for this run only (scenarios share the world and run in parallel)."""
        result = self._run(workflow, event_name, event, sha=sha, ref=ref, variables=variables)
        for d in [d for d in self.github.state.dispatches if d["from_run"] == result.run_id]:
            target = str(d["ref"]) if str(d["ref"]).startswith("refs/") else f"refs/heads/{d['ref']}"
            payload = {"ref": target, "inputs": d["inputs"], "workflow": d["workflow"]}
            result.dispatched.append(
                self._run(d["workflow"], "workflow_dispatch", payload, sha=self.sha(target), ref=target)
            )
        return result

    def _triggered(self, workflow: str, event_name: str, event: dict[str, Any], sha: str) -> bool:
        """Whether GitHub starts this workflow for the event: act ignores `on.<event>.types`."""
        text = git("--git-dir", str(self.origin), "show", f"{sha}:.github/workflows/{workflow}", cwd=self.root)
        doc = yaml.safe_load(text) or {}
        on = doc.get("on", doc.get(True)) or {}
        spec = on.get(event_name) if isinstance(on, dict) else None
        types = spec.get("types") if isinstance(spec, dict) else None
        return not types or event.get("action") in types

    def _run(
        self,
        workflow: str,
        event_name: str,
        event: dict[str, Any],
        *,
        sha: str,
        ref: str,
        variables: Mapping[str, str] | None = None,
    ) -> act.ActRun:
        if not self._triggered(workflow, event_name, event, sha):
            jobs = yaml.safe_load(
                git("--git-dir", str(self.origin), "show", f"{sha}:.github/workflows/{workflow}", cwd=self.root)
            ).get("jobs", {})
            return act.ActRun("", 0, dict.fromkeys(jobs, "not triggered"))
        run_id = str(next(self._runs))
        scratch = self.root / "runs" / run_id
        workdir = scratch / "repo"
        git("clone", "-q", "--no-checkout", str(self.origin), str(workdir), cwd=self.root)
        git("fetch", "-q", "origin", ref, cwd=workdir)
        git("checkout", "-q", "--detach", sha, cwd=workdir)
        event = {
            **event,
            "repository": {
                "full_name": REPOSITORY,
                "name": REPOSITORY.split("/")[1],
                "owner": {"login": REPOSITORY.split("/")[0]},
                "default_branch": "main",
            },
        }
        request_token = secrets.token_hex(16)
        wf = workdir / ".github" / "workflows" / workflow
        self.github.register_run(request_token, RunContext(run_id, event_name, event, ref, sha, wf))
        cache = self.root / "cache"
        env = {
            "GITHUB_RUN_ID": run_id,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_REPOSITORY_OWNER": REPOSITORY.split("/")[0],
            "GITHUB_API_URL": "http://api.github.localhost",
            "GH_HOST": "github.localhost",
            "SHA_REF": sha,
            "GITHUB_REF": ref,
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.github.url}/_oidc/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
            "HTTPS_PROXY": self.edge.url,
            "HTTP_PROXY": self.edge.url,
            "NO_PROXY": "127.0.0.1",  # not `localhost`: Go would exempt api.github.localhost too
            "SSL_CERT_FILE": str(self.edge.ca.bundle),
            "PULUMI_HOME": str(self.root / "pulumi-home"),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "STANDIN_ORIGIN": str(self.origin),
            "STANDIN_PYTHON": str(VENV / "bin" / "python"),
            "STANDIN_PYTHON_HOME": str(self.root / "python"),
            "STANDIN_PULUMI_BIN": str(self.root / "pulumi-bin"),
            "STANDIN_CACHE_DIR": str(cache),
            "STANDIN_GITHUB_URL": self.github.url,
        }
        result = act.run_act(
            workdir=workdir,
            workflow=workflow,
            event_name=event_name,
            event=event,
            env=env,
            secrets=self.secrets(),
            variables={**self.variables(), **(variables or {})},
            scratch=scratch,
            process_env=act.base_process_env(scratch / "home"),
            actor=ACTOR,
        )
        # GitHub creates an environment the first time a job names it (act does not): do it for the jobs that ran.
        run = self.github.runs[request_token]
        for job in result.ran():
            name = run.job_environment(job)
            if name:
                self.github.create_environment(name, by="github")
        return result

    # ---- reading what happened ---------------------------------------------------------------------
    def owner(self, server: LocalDokploy | None = None) -> httpx.Client:
        server = server or self.dokploy
        return httpx.Client(base_url=server.url + "/api", headers={"x-api-key": server.api_key}, timeout=30)

    def project_id(self, server: LocalDokploy, name: str) -> str | None:
        with self.owner(server) as c:
            return next((p["projectId"] for p in c.get("/project.all").json() if p["name"] == name), None)

    def composes(self, project: str = PREVIEW_PROJECT, server: LocalDokploy | None = None) -> dict[str, dict[str, Any]]:
        """Environment name -> {environmentId, compose: [...full compose.one...]} in a Dokploy project
        (the PR server's preview project by default)."""
        server = server or self.pr_dokploy
        out: dict[str, dict[str, Any]] = {}
        project_id = self.project_id(server, project)
        if project_id is None:
            return out
        with self.owner(server) as c:
            for env in c.get("/environment.byProjectId", params={"projectId": project_id}).json():
                if env.get("isDefault") and not env.get("compose"):
                    continue
                composes = [
                    c.get("/compose.one", params={"composeId": s["composeId"]}).json() for s in env.get("compose", [])
                ]
                out[env["name"]] = {"environmentId": env["environmentId"], "compose": composes}
        return out

    def stacks(self, zone: str) -> list[str]:
        """Stack names in a trust zone's file backend (what `pulumi stack ls` would list)."""
        base = self.root / "state" / zone / ".pulumi" / "stacks"
        return sorted(p.name.removesuffix(".json") for p in base.rglob("*.json") if not p.name.endswith(".bak"))

    def pulled(self, ref: str) -> str | None:
        """The digest a full reference (`ghcr.io/owner/name:tag`, as the model names it) resolves to, or None."""
        name = ref.split("/", 1)[1]
        repo, _, tag = name.rpartition(":")
        return self.image_digest(repo, tag)

    def push_image(self, image: str, tag: str, content: str) -> str:
        """A one-layer image of `content` pushed as `image:tag` (a repository path, no registry) by the release
        pusher, as someone pushing by hand would; returns its digest."""
        with self._site_lock:  # one layout directory for every such push: they take turns
            layout = OciLayout(self.root / "hand-pushed" / "oci")
            descriptor = layout.image(content)
            layout.name(tag, descriptor)
            creds = f"release-pusher:{self.push_token}"
            dest = f"docker://{self.registry.address}/{image}:{tag}"
            skopeo_copy(f"oci:{layout.path}:{tag}", dest, creds, "--preserve-digests", home=self.root / "hand-pushed")
        return str(descriptor["digest"])

    def image_digest(self, image: str, tag: str) -> str | None:
        admin = Credentials("admin", "admin-password")
        with RegistryClient(self.registry.address, credentials=admin) as client:
            try:
                return client.resolve(image, tag)
            except ManifestNotFound:
                return None


def _image_exists(registry: Registry) -> Any:
    """Whether an image reference (`ghcr.io/owner/name:tag` or `...@sha256:...`) can be pulled from the registry."""

    def check(ref: str) -> bool:
        name = ref.split("/", 1)[1]
        repo, _, tag = name.partition("@") if "@" in name else name.rpartition(":")
        with RegistryClient(registry.address, credentials=Credentials("admin", "admin-password")) as client:
            try:
                client.resolve(repo, tag)
            except ManifestNotFound:
                return False
        return True

    return check


def _prebuilt(root: Path) -> None:
    """The runner's preinstalled tools, as the setup stand-ins find them: Python, the Pulumi CLI, warm cache."""
    base = Path(sys.base_prefix)
    (root / "python" / "bin").mkdir(parents=True)
    for name in ("python", "python3", "python3.11"):
        os.symlink(base / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}", root / "python" / "bin" / name)
    (root / "pulumi-bin").mkdir()
    for tool in TOOLS_BIN.iterdir():
        if tool.name.startswith("pulumi"):
            os.symlink(tool.resolve(), root / "pulumi-bin" / tool.name)
    (root / "pulumi-home").mkdir()
    src_home = REPO / ".tools" / "pulumi-home" / "plugins"
    if src_home.exists():
        os.symlink(src_home, root / "pulumi-home" / "plugins")


def _seed_venv_cache(root: Path) -> None:
    """The warm cache entry the setup action's cache step looks for: the project's prebuilt virtualenv."""
    import hashlib
    import platform

    digest = hashlib.sha256()
    lock = (REPO / "requirements.lock").read_bytes()
    # act's hashFiles: sha256 over the sha256 of each matched file.
    digest.update(hashlib.sha256(lock).digest())
    key = f"venv-Linux-{platform.python_version()}-{digest.hexdigest()}"
    (root / "cache").mkdir()
    os.symlink(VENV, root / "cache" / key)


def _owner_projects(world: World) -> None:
    """On the PR server: the shared projects as an owner stack leaves them, and the preview member's key.
    On the staging server the staging stack creates them; the members' keys name the projects they may use."""
    with world.owner(world.pr_dokploy) as owner:
        for name in (PROJECT, PREVIEW_PROJECT):
            description = tag_description("Finance Report", marker_for(PULUMI_PROJECT, "staging", "Project", name))
            r = owner.post("/project.create", json={"name": name, "description": description})
            r.raise_for_status()
            world.projects[name] = r.json()["project"]["projectId"]
    world.pr_dokploy.add_member_key(MEMBER_KEY, [world.projects[PREVIEW_PROJECT]])
    world.dokploy.add_member_key(NO_ACCESS_KEY, [])
    world.dokploy.add_member_key(PRODUCTION_KEY, [PROJECT])
    # staging owns both shared projects on this server, so its read-only drift check reads both
    world.dokploy.add_member_key(OBSERVER_KEY, [PROJECT, PREVIEW_PROJECT])


def _origin(root: Path, github_files: Mapping[str, str]) -> tuple[Path, Path]:
    origin = root / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=root)
    git("config", "uploadpack.allowAnySHA1InWant", "true", cwd=origin)
    site = root / "site"
    site.mkdir()
    git("init", "-q", "-b", "main", cwd=site)
    for rel in project_files():
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    for rel, text in {**FIXTURE_APP, **github_files}.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    git("add", "-A", cwd=site)
    git("commit", "-q", "-m", "finance-report infrastructure", cwd=site)
    git("remote", "add", "origin", str(origin), cwd=site)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=site)
    return origin, site


def _installation_config(dokploy_url: str, vault_address: str) -> dict[str, str]:
    """What an installer commits: the staging and production stack files pointed at their servers.

    `manageGithub: false`: the GitHub provider plugin cannot be fetched here and GitHub cannot be reached;
    the GitHub side of these stacks is tested with Pulumi mocks (tests/github).
    """
    out = {}
    for stack in ("staging", "production"):
        path = REPO / f"Pulumi.{stack}.yaml"
        doc = yaml.safe_load(path.read_text()) or {}
        config = dict(doc.get("config") or {})
        config.update(
            {"dokploy:url": dokploy_url, "vault:address": vault_address, "financeReport:manageGithub": "false"}
        )
        out[f"Pulumi.{stack}.yaml"] = yaml.safe_dump({**doc, "config": config}, sort_keys=False)
    return out


@contextlib.contextmanager
def started_world(root: Path, openbao: OpenBao) -> Iterator[World]:
    token = "ghs_" + secrets.token_hex(18)
    push_token = "ghp_" + secrets.token_hex(18)
    app_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app_pem = app_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    users: dict[str, tuple[str, tuple[str, ...]]] = {
        ACTOR: (token, ("pull", "push")),
        "release-pusher": (push_token, ("pull", "push")),
        "admin": ("admin-password", ("pull",)),
        # GitHub's own access behind the Packages API: its tokens are minted in-process, no job knows the password
        GHCR_BACKEND: (secrets.token_hex(16), ("pull", "delete")),
    }
    with contextlib.ExitStack() as stack:
        dokploy = stack.enter_context(running_server(root / "dokploy", knobs={"deploy_duration_ms": 100}))
        pr_dokploy = stack.enter_context(running_server(root / "pr-dokploy", knobs={"deploy_duration_ms": 100}))
        registry = stack.enter_context(running_registry(root / "registry", users))
        origin, site = _origin(root, _installation_config(dokploy.url, openbao.address))
        github = GitHubStandIn(REPOSITORY, origin).start()
        stack.callback(github.stop)
        github.add_token(token, BOT)
        github.attach_registry(registry, GHCR_BACKEND)
        github.add_token("environments-token", "environments-admin")
        github.add_token("admin-token", "repository-admin")
        github.add_token("readonly-token", "repository-reader")
        public = app_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        github.install_app(RELEASE_APP_ID, public.decode(), RELEASE_APP)
        app = SimulatedApp([dokploy, pr_dokploy], _image_exists(registry))
        edge = Edge(root / "edge", app, "zitian.party").start()
        stack.callback(edge.stop)
        edge.route("ghcr.io", f"http://{registry.address}")
        edge.route("api.github.localhost", github.url, scheme="http")
        admin = VaultClient.connect(VaultConnection(address=openbao.address), {"VAULT_TOKEN": openbao.root_token})
        jwt = JwtConfig(pubkeys=(github.public_key_pem,), discovery_url=None, bound_issuer=GITHUB_ISSUER)
        bootstrap(admin, BootstrapOptions(jwt=jwt, repository_id=REPOSITORY_ID))
        world = World(
            root, dokploy, pr_dokploy, openbao, registry, github, edge, origin, site, token, push_token, app_pem
        )
        _prebuilt(root)
        _seed_venv_cache(root)
        _owner_projects(world)
        (root / "state" / "preview").mkdir(parents=True)
        (root / "state" / "staging").mkdir()
        (root / "state" / "production").mkdir()
        try:
            yield world
        finally:
            world._pool.shutdown(wait=True, cancel_futures=True)


def pulumi_available() -> bool:
    return PULUMI.exists()


def dump(obj: object) -> str:
    return json.dumps(obj, indent=1, default=str)[:6000]
