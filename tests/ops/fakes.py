"""In-memory GitHub and Dokploy APIs behind httpx.MockTransport: just the calls ops makes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import httpx


@dataclass
class FakeGitHub:
    comments: dict[int, list[dict]] = field(default_factory=dict)  # issue/PR number -> comments
    issues: list[dict] = field(default_factory=list)
    pulls: dict[int, str] = field(default_factory=dict)  # number -> "open" | "closed"
    environments: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    fail_pull: set[int] = field(default_factory=set)
    # token -> the login GitHub shows as the author of what that token writes
    logins: dict[str, str] = field(default_factory=lambda: {"token": "github-actions[bot]"})
    _next: int = 100

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _id(self) -> int:
        self._next += 1
        return self._next

    def handle(self, req: httpx.Request) -> httpx.Response:
        path, method = req.url.path, req.method
        self.calls.append(f"{method} {path}")
        assert req.headers["authorization"].startswith("Bearer ")
        login = self.logins[req.headers["authorization"].removeprefix("Bearer ")]
        author = {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}
        body = json.loads(req.content) if req.content else {}
        if m := re.fullmatch(r"/repos/o/r/issues/(\d+)/comments", path):
            thread = self.comments.setdefault(int(m[1]), [])
            if method == "GET":
                page, per = int(req.url.params["page"]), int(req.url.params["per_page"])
                return httpx.Response(200, json=thread[(page - 1) * per : page * per])
            thread.append({"id": self._id(), "body": body["body"], "user": author})
            return httpx.Response(201, json=thread[-1])
        if m := re.fullmatch(r"/repos/o/r/issues/comments/(\d+)", path):
            for thread in self.comments.values():
                for c in thread:
                    if c["id"] == int(m[1]):
                        c["body"] = body["body"]
                        return httpx.Response(200, json=c)
            return httpx.Response(404)
        if path == "/repos/o/r/issues":
            if method == "GET":
                return httpx.Response(200, json=[i for i in self.issues if i["state"] == req.url.params["state"]])
            self.issues.append({"number": self._id(), "state": "open", "comments": [], "user": author, **body})
            return httpx.Response(201, json=self.issues[-1])
        if m := re.fullmatch(r"/repos/o/r/issues/(\d+)", path):
            issue = next(i for i in self.issues if i["number"] == int(m[1]))  # a write token may edit any issue
            issue.update(body)
            return httpx.Response(200, json=issue)
        if m := re.fullmatch(r"/repos/o/r/pulls/(\d+)", path):
            n = int(m[1])
            if n in self.fail_pull:
                return httpx.Response(502)
            if n not in self.pulls:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"number": n, "state": self.pulls[n]})
        if m := re.fullmatch(r"/repos/o/r/environments/([\w-]+)", path):
            if m[1] not in self.environments:
                return httpx.Response(404)
            self.environments.discard(m[1])
            return httpx.Response(204)
        return httpx.Response(418, json={"unexpected": f"{method} {path}"})


@dataclass
class FakeDokploy:
    """`project.all`, `environment.byProjectId`, `compose.delete`, `environment.remove` (dokploy-api.md §3)."""

    projects: list[dict] = field(default_factory=list)
    environments: dict[str, list[dict]] = field(default_factory=dict)  # projectId -> environments
    calls: list[str] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, req: httpx.Request) -> httpx.Response:
        self.calls.append(f"{req.method} {req.url.path}")
        if req.headers.get("x-api-key") != "preview-key":
            return httpx.Response(401, json={"message": "Unauthorized"})
        if req.url.path == "/api/project.all":
            return httpx.Response(200, json=self.projects)
        if req.url.path == "/api/environment.byProjectId":
            return httpx.Response(200, json=self.environments.get(req.url.params["projectId"], []))
        body = json.loads(req.content or b"{}")
        if req.url.path == "/api/compose.delete":
            assert body["deleteVolumes"] is True
            for envs in self.environments.values():
                for env in envs:
                    env["compose"] = [c for c in env["compose"] if c["composeId"] != body["composeId"]]
            return httpx.Response(200, json={})
        if req.url.path == "/api/environment.remove":
            for pid, envs in self.environments.items():
                found = [e for e in envs if e["environmentId"] == body["environmentId"]]
                if found and found[0]["compose"]:
                    return httpx.Response(400, json={"message": "Cannot delete environment: it has active services"})
                self.environments[pid] = [e for e in envs if e not in found]
            return httpx.Response(200, json={})
        return httpx.Response(404)
