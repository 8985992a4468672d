"""A small client for the contract tests: every answer from a procedure is checked against our response schemas.

It talks to any Dokploy by URL and key (the imitation or a real server). `project()` and `project_with_compose()`
never create a project: they add an environment to the run's scratch project (see `tests/contract/target.py`), so
the suite touches nothing outside it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import httpx

from dokploy_local.schemas import check_response
from dokploy_local.testing import LocalDokploy

_NAMES = itertools.count(1)


class Api:
    def __init__(self, url: str, key: str | None, *, scratch_project: dict[str, Any] | None = None) -> None:
        self.url = url
        self.key = key
        self.scratch_project = scratch_project
        self.client = httpx.Client(base_url=f"{url}/api", timeout=30)

    @classmethod
    def of(cls, server: LocalDokploy, key: str | None = None) -> Api:
        """A client of a local server started by the test itself (a fresh, throwaway imitation)."""
        return cls(server.url, server.api_key if key is None else key)

    def with_key(self, key: str | None) -> Api:
        return Api(self.url, key, scratch_project=self.scratch_project)

    def close(self) -> None:
        self.client.close()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {"x-api-key": self.key} if self.key else {}
        return base | (extra or {})

    def checked(self, procedure: str | None, response: httpx.Response) -> httpx.Response:
        if response.headers.get("content-type", "").startswith("application/json") and response.content:
            check_response(procedure, response.status_code, without_dev_stack(response.json()))
        return response

    def get(self, procedure: str, **params: Any) -> httpx.Response:
        response = self.client.get(f"/{procedure}", params=params, headers=self.headers())
        return self.checked(procedure, response)

    def post(self, procedure: str, body: Any = None, **fields: Any) -> httpx.Response:
        payload = fields if body is None else body
        response = self.client.post(f"/{procedure}", json=payload, headers=self.headers())
        return self.checked(procedure, response)

    def ok(self, method: str, procedure: str, *args: Any, **kwargs: Any) -> Any:
        """Call and insist on 200; the parsed body."""
        response = self.get(procedure, **kwargs) if method == "GET" else self.post(procedure, *args, **kwargs)
        assert response.status_code == 200, f"{procedure}: {response.status_code} {response.text}"
        return response.json()

    # fixtures of data

    def project(self, name: str = "finance") -> dict[str, Any]:
        """`{"project", "environment"}` like `project.create`'s answer: with a scratch project, a new environment
        of it (never a new project); on a throwaway server of the test's own, a new project."""
        if self.scratch_project is None:
            created: dict[str, Any] = self.ok("POST", "project.create", name=name, description="test")
            return created
        project_id = self.scratch_project["projectId"]
        environment = self.ok("POST", "environment.create", name=f"{name}-{next(_NAMES)}", projectId=project_id)
        return {"project": self.scratch_project, "environment": environment}

    def compose(self, environment_id: str, **fields: Any) -> dict[str, Any]:
        compose: dict[str, Any] = self.ok(
            "POST", "compose.create", **({"name": "app", "environmentId": environment_id} | fields)
        )
        return compose

    def project_with_compose(self) -> tuple[dict[str, Any], dict[str, Any]]:
        created = self.project()
        return created, self.compose(created["environment"]["environmentId"])


def without_dev_stack(body: Any) -> Any:
    """A development build of Dokploy adds `data.stack` (the server-side stack trace) to error bodies; production
    builds do not (observed on v0.30.2). It is the only difference allowed between the two."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "stack" in body["data"]:
        return {**body, "data": {k: v for k, v in body["data"].items() if k != "stack"}}
    return body


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll until `predicate()` is truthy; its value, or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
