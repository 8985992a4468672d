"""The control API under `/__local/`, outside Dokploy's namespace, for tests and the benchmark.

Every call needs `x-api-key: <the owner key>`. Bodies and answers are JSON.

| call | what |
| --- | --- |
| `GET /__local/knobs` / `POST /__local/knobs {name: value...}` | read / change knobs (answers all knobs) |
| `GET /__local/member-keys` / `POST /__local/member-keys {"key", "projects": [id or name...]}` | member keys |
| `GET /__local/requests?since=SEQ&limit=N` | `{"requests": [...]}`, the request log after `since` |
| `GET /__local/counters` | totals, reads, writes, per procedure, per status, per outcome |
| `POST /__local/reset-stats` | empty the request log and counters |
| `GET /__local/counts` | objects stored per kind, member keys, queued and running deployment jobs |
| `POST /__local/seed {projects, environments_per_project, composes_per_environment, ...}` | bulk objects |
"""

from __future__ import annotations

from typing import Any

from dokploy_local.app import App
from dokploy_local.knobs import KnobError
from dokploy_local.seed import SeedSpec, seed


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _int_arg(query: dict[str, str], name: str, default: int | None) -> int | None:
    if name not in query:
        return default
    try:
        return int(query[name])
    except ValueError as error:
        raise ControlError(400, f"{name} must be an integer") from error


def handle(app: App, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    route = (method, path.rstrip("/"))
    if route == ("GET", "/__local/knobs"):
        return 200, app.knobs.snapshot()
    if route == ("POST", "/__local/knobs"):
        if not isinstance(body, dict):
            raise ControlError(400, "send a JSON object of knobs")
        try:
            return 200, app.knobs.update(body)
        except KnobError as error:
            raise ControlError(400, str(error)) from error
    if route == ("GET", "/__local/member-keys"):
        return 200, app.store.member_keys()
    if route == ("POST", "/__local/member-keys"):
        key, projects = (body or {}).get("key"), (body or {}).get("projects")
        if not isinstance(key, str) or not key or key == app.api_key:
            raise ControlError(400, "key must be a non-empty string other than the owner key")
        if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
            raise ControlError(400, "projects must be a list of project ids or names")
        app.store.set_member_key(key, projects)
        return 200, {"key": key, "projects": projects}
    if route == ("GET", "/__local/requests"):
        since, limit = _int_arg(query, "since", 0), _int_arg(query, "limit", None)
        return 200, {"requests": app.log.entries(since or 0, limit)}
    if route == ("GET", "/__local/counters"):
        return 200, app.log.counters()
    if route == ("POST", "/__local/reset-stats"):
        app.log.reset()
        return 200, {"ok": True}
    if route == ("GET", "/__local/counts"):
        return 200, app.counts()
    if route == ("POST", "/__local/seed"):
        try:
            spec = SeedSpec.from_json(body if isinstance(body, dict) else {})
        except (TypeError, ValueError) as error:
            raise ControlError(400, f"bad seed spec: {error}") from error
        return 200, seed(app.store, spec)
    raise ControlError(404, f"no control call {method} {path}")
