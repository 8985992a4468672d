"""STAND-IN for GitHub (github.com cannot be reached here): the REST and GraphQL calls our workflows make,
GitHub Actions' OIDC token endpoint, the run-artifact store, and the repository's git refs.

One threaded HTTP server on a free loopback port, in the test process, so a scenario reads what the
workflows did straight from `GitHubStandIn.state`: comments, issues and environments with the *author*
each write was made as (the token decides it, as on GitHub), tags, and the requests themselves.

- Tokens: `add_token(token, login)` says whom a token acts as. The job's `GITHUB_TOKEN` is the bot
  `github-actions[bot]`; unknown tokens get 401, like GitHub.
- OIDC (`/_oidc/token`): the job's request token (per act run) names the run; the claims come from the
  run's event and the workflow file's `environment:` of the job, never from the caller. act gives every
  job of a run the same request token and the caller names its job (`GITHUB_JOB`), which a real runner
  would not let a job choose: that boundary is checked by the structure tests, not here.
- Git: the repository is a bare git directory (`origin`); creating a tag ref through the API updates it,
  so a later run can check out the release tag.
- Artifacts: the upload-artifact stand-in posts a file (`/_artifacts/<run>/<name>`); `gh run download`
  lists `/repos/o/r/actions/runs/<run>/artifacts` and fetches a zip, as from GitHub. `tamper` (a test's
  hook) can rewrite an artifact as it is stored, as someone with write access to the storage could.
- Packages (`/users/<owner>/packages/container/<package>/versions`): backed by the local registry (GHCR's
  stand-in) read as GHCR's own backend would: one version per manifest digest with the tags pointing at it
  and `updated_at` when a tag of it was last pushed; deleting a version deletes that manifest (and so every
  tag on it) in the registry. Untagged manifests (an index's platform images) are not listed.
- Approvals: an environment with required reviewers (`reviewers`) gets its OIDC token only when the
  test's reviewer callback approves the run, given the run's artifacts (the plan it reads). act runs the
  job regardless; the gate is where protection matters here, the environment's identity.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt as pyjwt
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ops import procfs
from tests.support.registry import Registry

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
BOT = "github-actions[bot]"
REPOSITORY_ID = "812345678"  # a fixed id for the repository, as GitHub's `repository_id` claim carries
_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


@dataclass
class RunContext:
    """What GitHub knows about one workflow run: its event and workflow file (for the OIDC claims)."""

    run_id: str
    event_name: str
    event: dict[str, Any]
    ref: str
    sha: str
    workflow: Path

    def job_environment(self, job: str) -> str | None:
        """The job's `environment:` name from the workflow file, with `${{ github.event.* }}` filled in."""
        doc = yaml.safe_load(self.workflow.read_text())
        spec = (doc.get("jobs") or {}).get(job, {}).get("environment")
        name = spec.get("name") if isinstance(spec, dict) else spec
        return None if name is None else _EXPR.sub(lambda m: self._value(m.group(1)), str(name))

    def _value(self, expr: str) -> str:
        if not expr.startswith("github.event."):
            raise ValueError(f"the OIDC stand-in fills in github.event.* only, not {expr!r}")
        value: Any = self.event
        for part in expr.removeprefix("github.event.").split("."):
            value = value[part]
        return str(value)


def _user(login: str) -> dict[str, str]:
    """A `user` object as GitHub returns it: bots (`...[bot]`) are of type Bot."""
    return {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}


def _caller_job(port: int, variable: str = "GITHUB_JOB") -> str:
    """`variable` (GITHUB_JOB) of the local process on the other end of a loopback connection from `port`.

    A runner hands each job its own token request URL; act hands one to all jobs of a run, so the OIDC
    stand-in asks the kernel which process is calling (/proc/net/tcp -> socket inode -> /proc/<pid>/fd).
    """
    callers = procfs.holders(procfs.socket_inodes(port)) if port else []
    return next((found for pid in callers if (found := procfs.environment_variable(pid, variable))), "")


@dataclass
class State:
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue/PR number -> comments
    issues: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {created_by, ...}
    deleted_environments: list[tuple[str, str]] = field(default_factory=list)  # (name, by)
    refs_created: list[tuple[str, str, str]] = field(default_factory=list)  # (ref, sha, by)
    artifacts: dict[str, dict[str, bytes]] = field(default_factory=dict)  # run -> name -> file bytes
    tokens_issued: list[dict[str, Any]] = field(default_factory=list)  # OIDC claims, per request
    approvals: list[tuple[str, str, bool]] = field(default_factory=list)  # (run, environment, approved)
    dispatches: list[dict[str, Any]] = field(default_factory=list)  # workflow_dispatch requests, and by whom
    package_deletions: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)  # (package, tags, by)
    requests: list[str] = field(default_factory=list)

    def pr_comments(self, number: int) -> list[dict[str, Any]]:
        return list(self.comments.get(number, []))


class GitHubStandIn:
    def __init__(self, repository: str, origin: Path) -> None:
        self.repository = repository
        self.origin = origin
        self.state = State()
        self.tokens: dict[str, str] = {}
        self.runs: dict[str, RunContext] = {}  # OIDC request token -> run
        # environment -> reviewer(run, artifacts) deciding an approval; no entry: no reviewers required
        self.reviewers: dict[str, Callable[[RunContext, dict[str, bytes]], bool]] = {}
        self.tamper: Callable[[str, str, bytes], bytes] | None = None
        self.apps: dict[str, tuple[str, str]] = {}  # app id -> (public key PEM, bot login)
        self.workflow_ids: dict[int, str] = {}  # the ids `gh workflow run` dispatches by -> workflow file
        self.registry: Registry | None = None  # what the Packages API lists and deletes (attach_registry)
        self.registry_user = ""
        self._versions: dict[int, tuple[str, str]] = {}  # package version id -> (registry repository, digest)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._lock = threading.Lock()
        self._next_id = 1000
        self._server: ThreadingHTTPServer | None = None
        self.url = ""
        self.public_url = "http://api.github.localhost"  # where the jobs reach it (through the network stand-in)

    # ---- set-up by the harness ----------------------------------------------------------------
    @property
    def public_key_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def add_token(self, token: str, login: str) -> None:
        self.tokens[token] = login

    def register_run(self, request_token: str, run: RunContext) -> None:
        self.runs[request_token] = run

    def install_app(self, app_id: str, public_key_pem: str, login: str) -> None:
        """A GitHub App installed on the repository: its JWT (signed with its key) mints installation tokens."""
        self.apps[app_id] = (public_key_pem, login)

    def attach_registry(self, registry: Registry, user: str) -> None:
        """GHCR: the registry the Packages API answers from, and the registry user with pull and delete on it."""
        self.registry, self.registry_user = registry, user

    def open_pull(self, number: int, pull: dict[str, Any]) -> None:
        self.state.pulls[number] = pull

    def create_environment(self, name: str, by: str) -> None:
        """What GitHub does the first time a job names an environment (act does not)."""
        with self._lock:
            self.state.environments.setdefault(name, {"name": name, "created_by": by})

    def start(self) -> GitHubStandIn:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = dict(self.headers) | {"x-peer-port": str(self.client_address[1])}
                status, body, ctype = outer.dispatch(self.command, self.path, headers, raw)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # ---- request handling ---------------------------------------------------------------------
    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _who(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = auth.split(" ", 1)[1].strip() if " " in auth else ""
        return self.tokens.get(token)

    def dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, str]:
        url = urlsplit(target)
        path = url.path.removeprefix("/api/v3")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.state.requests.append(f"{method} {path}")
        if path == "/_oidc/token":
            return self._oidc(headers, query)
        if m := re.fullmatch(r"/_artifacts/([^/]+)/([^/]+)", path):
            data = self.tamper(m[1], m[2], raw) if self.tamper else raw
            self.state.artifacts.setdefault(m[1], {})[m[2]] = data
            return 201, {"ok": True}, "application/json"
        if app := self._app(headers):
            with self._lock:
                return (*self._app_call(method, path, app), "application/json")
        who = self._who(headers)
        if who is None:
            return 401, {"message": "Bad credentials"}, "application/json"
        body = json.loads(raw) if raw and method != "GET" else {}
        with self._lock:
            status, answer = self._rest(method, path, query, body, who, int(headers.get("x-peer-port", 0)))
        if isinstance(answer, bytes):
            return status, answer, "application/zip"
        return status, answer, "application/json"

    def _app(self, headers: dict[str, str]) -> str | None:
        """The App whose JWT authenticates this request (as GitHub checks it: `iss` = app id, its key)."""
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = auth.split(" ", 1)[1] if " " in auth else ""
        if token.count(".") != 2:
            return None
        try:
            app_id = str(pyjwt.decode(token, options={"verify_signature": False})["iss"])
            pyjwt.decode(token, self.apps[app_id][0], algorithms=["RS256"])
        except (KeyError, pyjwt.PyJWTError):
            return None
        return app_id

    def _app_call(self, method: str, path: str, app_id: str) -> tuple[int, Any]:
        if method == "GET" and path == f"/repos/{self.repository}/installation":
            return 200, {"id": int(app_id) * 10, "app_id": int(app_id)}
        if method == "POST" and path == f"/app/installations/{int(app_id) * 10}/access_tokens":
            token = f"ghs_app_{uuid.uuid4().hex}"
            self.tokens[token] = self.apps[app_id][1]
            return 201, {"token": token, "expires_at": "2099-01-01T00:00:00Z"}
        return 404, {"message": "Not Found (the App may only mint its installation token here)"}

    def _oidc(self, headers: dict[str, str], query: dict[str, str]) -> tuple[int, Any, str]:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        run = self.runs.get(auth.removeprefix("Bearer ").removeprefix("bearer ").strip())
        if run is None:
            return 401, {"message": "no such request token"}, "application/json"
        job = query.get("job") or _caller_job(int(headers.get("x-peer-port", 0)))
        environment = run.job_environment(job)
        reviewer = self.reviewers.get(environment or "")
        if reviewer is not None:
            approved = reviewer(run, dict(self.state.artifacts.get(run.run_id, {})))
            self.state.approvals.append((run.run_id, str(environment), approved))
            if not approved:
                return (
                    403,
                    {"message": f"deployment to {environment} was rejected by its reviewers"},
                    "application/json",
                )
        owner = self.repository.split("/")[0]
        ref_type = "tag" if run.ref.startswith("refs/tags/") else "branch"
        if environment:
            sub = f"repo:{self.repository}:environment:{environment}"
        elif run.event_name == "pull_request":
            sub = f"repo:{self.repository}:pull_request"
        else:
            sub = f"repo:{self.repository}:ref:{run.ref}"
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": GITHUB_ISSUER,
            "aud": query.get("audience") or f"https://github.com/{owner}",
            "sub": sub,
            "repository": self.repository,
            "repository_id": REPOSITORY_ID,
            "repository_owner": owner,
            "ref": run.ref,
            "ref_type": ref_type,
            "sha": run.sha,
            "event_name": run.event_name,
            "run_id": run.run_id,
            "job_workflow_ref": f"{self.repository}/.github/workflows/{run.workflow.name}@{run.ref}",
            "runner_environment": "github-hosted",
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
        }
        if environment:
            claims["environment"] = environment
        self.state.tokens_issued.append({**claims, "job": job})
        return 200, {"value": pyjwt.encode(claims, self.key, algorithm="RS256")}, "application/json"

    def _rest(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any], who: str, peer: int = 0
    ) -> tuple[int, Any]:
        repo = f"/repos/{self.repository}"
        page, per = int(query.get("page", 1)), int(query.get("per_page", 30))
        if path == "/graphql":
            return self._graphql(body, who)
        owner = self.repository.split("/")[0]
        if path == f"/users/{owner}" and method == "GET":
            return 200, _user(owner)
        if m := re.fullmatch(rf"/users/{re.escape(owner)}/packages/container/([^/]+)/versions(?:/(\d+))?", path):
            return self._package_versions(method, f"{owner}/{unquote(m[1])}", m[2], page, per, who)
        if not path.startswith(repo + "/"):
            return 404, {"message": f"Not Found (the GitHub stand-in serves {self.repository} only)"}
        rest = path[len(repo) :]
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(m[1])
            thread = self.state.comments.setdefault(number, [])
            if method == "GET":
                return 200, thread[(page - 1) * per : page * per]
            comment = {"id": self._id(), "body": body["body"], "user": _user(who), "edits": 0}
            thread.append(comment)
            return 201, comment
        if m := re.fullmatch(r"/issues/comments/(\d+)", rest):
            for thread in self.state.comments.values():
                for comment in thread:
                    if comment["id"] == int(m[1]) and method == "PATCH":
                        comment.update(body=body["body"], edits=comment["edits"] + 1, edited_by=who)
                        return 200, comment
            return 404, {"message": "Not Found"}
        if rest == "/issues":
            if method == "GET":
                state = query.get("state", "open")
                found = [i for i in self.state.issues if state == "all" or i["state"] == state]
                return 200, found[(page - 1) * per : page * per]
            number = max([*self.state.pulls, *(i["number"] for i in self.state.issues), 0]) + 1
            issue = {**body, "number": number, "state": "open", "user": _user(who), "comments": []}
            self.state.issues.append(issue)
            return 201, issue
        if m := re.fullmatch(r"/issues/(\d+)", rest):
            for issue in self.state.issues:
                if issue["number"] == int(m[1]):
                    issue.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
                    issue["updated_by"] = who
                    return 200, issue
            return 404, {"message": "Not Found"}
        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            pull = self.state.pulls.get(int(m[1]))
            return (200, pull) if pull else (404, {"message": "Not Found"})
        if m := re.fullmatch(r"/environments/([^/]+)", rest):
            name = m[1]
            if method == "DELETE":
                if self.state.environments.pop(name, None) is None:
                    return 404, {"message": "Not Found"}
                self.state.deleted_environments.append((name, who))
                return 204, b""
            if method == "PUT":
                self.state.environments.setdefault(name, {"name": name, "created_by": who})
            env = self.state.environments.get(name)
            return (200, env) if env else (404, {"message": "Not Found"})
        if (m := re.fullmatch(r"/actions/workflows/([^/]+)", rest)) and method == "GET":
            # `gh workflow run X.yml` looks the workflow up by file name, then dispatches by its numeric id.
            name = m[1]
            workflow_id = zlib.crc32(name.encode())
            self.workflow_ids[workflow_id] = name
            path = f".github/workflows/{name}"
            return 200, {"id": workflow_id, "name": name, "path": path, "state": "active"}
        if (m := re.fullmatch(r"/actions/workflows/([^/]+)/dispatches", rest)) and method == "POST":
            self.state.dispatches.append(
                {
                    "workflow": self.workflow_ids.get(int(m[1]), m[1]) if m[1].isdigit() else m[1],
                    "ref": body.get("ref"),
                    "inputs": body.get("inputs") or {},
                    "by": who,
                    "from_run": _caller_job(peer, "GITHUB_RUN_ID"),  # the run whose job asked
                }
            )
            return 204, b""
        if rest == "/git/refs" and method == "POST":
            ref, sha = body["ref"], body["sha"]
            apps = {login for _, login in self.apps.values()}
            if ref.startswith("refs/tags/v") and apps and who not in apps:  # the v* tag ruleset's only bypass actor
                return 422, {
                    "message": "Repository rule violations found: Cannot create ref due to creations being restricted."
                }
            proc = subprocess.run(
                ["git", "--git-dir", str(self.origin), "update-ref", ref, sha, ""], capture_output=True, text=True
            )
            if proc.returncode != 0:
                return 422, {"message": f"Reference already exists or bad sha: {proc.stderr.strip()}"}
            self.state.refs_created.append((ref, sha, who))
            return 201, {"ref": ref, "object": {"sha": sha, "type": "commit"}}
        if m := re.fullmatch(r"/actions/runs/([^/]+)/artifacts", rest):
            files = self.state.artifacts.get(m[1], {})
            name = query.get("name")
            base = f"{self.public_url}/repos/{self.repository}/actions/artifacts/{m[1]}"
            found = [
                {
                    "id": abs(hash((m[1], n))) % 10**9,
                    "name": n,
                    "size_in_bytes": len(data),
                    "expired": False,
                    "archive_download_url": f"{base}/{n}/zip",
                }
                for n, data in files.items()
                if name in (None, n)
            ]
            return 200, {"total_count": len(found), "artifacts": found}
        if m := re.fullmatch(r"/actions/artifacts/([^/]+)/([^/]+)/zip", rest):
            data = self.state.artifacts.get(m[1], {}).get(m[2])
            if data is None:
                return 404, {"message": "Not Found"}
            payload = json.loads(data)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                for item in payload["files"]:
                    zf.writestr(item["path"], bytes.fromhex(item["hex"]))
            return 200, buf.getvalue()
        return 404, {"message": f"Not Found (the GitHub stand-in does not serve {method} {rest})"}

    def _package_versions(
        self, method: str, repository: str, version: str | None, page: int, per: int, who: str
    ) -> tuple[int, Any]:
        registry, user = self.registry, self.registry_user
        if registry is None:
            return 404, {"message": "Package not found."}
        if version is not None and method == "DELETE":
            found = self._versions.get(int(version))
            if found is None or found[0] != repository:
                return 404, {"message": "Package version not found."}
            gone = tuple(t for t in registry.tags(repository, user) if registry.digest(repository, t, user) == found[1])
            registry.delete_manifest(repository, found[1], user)
            del self._versions[int(version)]
            self.state.package_deletions.append((repository.split("/", 1)[1], gone, who))
            return 204, b""
        if version is not None or method != "GET":
            return 405, {"message": "the GitHub stand-in lists and deletes package versions only"}
        by_digest: dict[str, list[str]] = {}
        for tag in registry.tags(repository, user):
            by_digest.setdefault(registry.digest(repository, tag, user), []).append(tag)
        if not by_digest:
            return 404, {"message": "Package not found."}
        rows: list[dict[str, Any]] = []
        for digest, tags in by_digest.items():
            vid = next((i for i, v in self._versions.items() if v == (repository, digest)), None) or self._id()
            self._versions[vid] = (repository, digest)
            updated = max(registry.tag_pushed_at(repository, t) for t in tags)
            rows.append(
                {
                    "id": vid,
                    "name": digest,
                    "updated_at": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "metadata": {"package_type": "container", "container": {"tags": sorted(tags)}},
                }
            )
        rows.sort(key=lambda r: str(r["updated_at"]), reverse=True)  # newest first, as GitHub lists them
        return 200, rows[(page - 1) * per : page * per]

    def _graphql(self, body: dict[str, Any], who: str) -> tuple[int, Any]:
        """The two GraphQL calls `gh pr comment` makes: find the pull request, add a comment to it."""
        query, variables = str(body.get("query", "")), body.get("variables") or {}
        if "addComment" in query:
            subject = str((variables.get("input") or {}).get("subjectId", ""))
            number = int(subject.removeprefix("PR_"))
            comment = {
                "id": self._id(),
                "body": variables["input"]["body"],
                "user": _user(who),
                "edits": 0,
            }
            self.state.comments.setdefault(number, []).append(comment)
            url = f"https://github.com/{self.repository}/pull/{number}#issuecomment-{comment['id']}"
            return 200, {"data": {"addComment": {"commentEdge": {"node": {"url": url}}}}}
        if "pullRequest(" in query:
            number = int(variables.get("pr_number") or variables.get("number") or 0)
            pull = self.state.pulls.get(number)
            if pull is None:
                return 200, {"data": {"repository": {"pullRequest": None}}, "errors": [{"message": "not found"}]}
            node = {
                "id": f"PR_{number}",
                "number": number,
                "title": pull.get("title", ""),
                "state": str(pull.get("state", "open")).upper(),
                "url": f"https://github.com/{self.repository}/pull/{number}",
                "headRefName": pull.get("head", {}).get("ref", ""),
                "baseRefName": pull.get("base", {}).get("ref", "main"),
                "isCrossRepository": pull.get("head", {}).get("repo", {}).get("full_name") != self.repository,
            }
            return 200, {"data": {"repository": {"pullRequest": node}}}
        return 200, {"errors": [{"message": f"the GitHub stand-in does not answer this query: {query[:80]}"}]}
