"""A small client for the tests: every answer from a procedure is checked against our response schemas."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from dokploy_local.schemas import check_response
from dokploy_local.testing import LocalDokploy


class Api:
    def __init__(self, server: LocalDokploy, key: str | None = None) -> None:
        self.server = server
        self.key = server.api_key if key is None else key
        self.client = httpx.Client(base_url=f"{server.url}/api", timeout=10)

    def close(self) -> None:
        self.client.close()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {"x-api-key": self.key} if self.key else {}
        return base | (extra or {})

    def checked(self, procedure: str | None, response: httpx.Response) -> httpx.Response:
        if response.headers.get("content-type", "").startswith("application/json") and response.content:
            check_response(procedure, response.status_code, response.json())
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
        created: dict[str, Any] = self.ok("POST", "project.create", name=name, description="test")
        return created

    def compose(self, environment_id: str, **fields: Any) -> dict[str, Any]:
        compose: dict[str, Any] = self.ok(
            "POST", "compose.create", **({"name": "app", "environmentId": environment_id} | fields)
        )
        return compose

    def project_with_compose(self) -> tuple[dict[str, Any], dict[str, Any]]:
        created = self.project()
        return created, self.compose(created["environment"]["environmentId"])


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
