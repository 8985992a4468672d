"""A read-only dashboard at the server's root: what the API calls have built, for a person with a browser.

    /                   projects -> environments -> composes, each with its status and latest deployment
    /compose/<id>       one compose: deployments (status, times, log), domains, compose file, env (masked)
    /requests           the request log's last calls (no inputs: they carry env values)
    /login, /logout     the owner API key in, a session cookie out

Behind the owner API key, not "loopback only": the server binds loopback, but loopback is no boundary on
this machine - PR workflows run under act on the same host, as do other users' processes - and the API
already draws its line at the key. A browser cannot send `x-api-key`, so /login takes the key once (from
.local/dokploy/api-key for `make up`'s server) and sets a session cookie: an HMAC of an expiry time under
the key, so it is not the key, needs no server-side store, survives restarts, expires, and dies with the
key. `x-api-key` works on every page too (curl, tests). Pages only read; secret values are masked
(`dashboard_masking`). Plain HTML rendered here (`dashboard_pages`), no script, no build step.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, quote

from dokploy_local import dashboard_pages as pages
from dokploy_local.app import App

COOKIE = "dokploy_local_session"
SESSION_SECONDS = 12 * 3600
REQUESTS_SHOWN = 200
PAGE_HEADERS = (
    ("Cache-Control", "no-store"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'",
    ),
)
HTML = "text/html; charset=utf-8"
_PAGES = ("/", "/requests", "/login", "/logout", pages.CSS_PATH)


class Headers(Protocol):
    """Request headers, looked up case-insensitively (`http.server`'s message object)."""

    def get(self, name: str, /) -> str | None: ...


Response = tuple[int, bytes, str | None, tuple[tuple[str, str], ...]]


def handles(path: str) -> bool:
    """Whether a path is the dashboard's (everything under /api and /__local stays the API's)."""
    return path in _PAGES or path.startswith("/compose/")


# sessions


def _signature(api_key: str, expires: int) -> str:
    return hmac.new(api_key.encode(), f"dokploy-local-dashboard:{expires}".encode(), hashlib.sha256).hexdigest()


def session_cookie(api_key: str, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + SESSION_SECONDS
    return f"{expires}.{_signature(api_key, expires)}"


def _valid_session(api_key: str, value: str | None, now: float | None = None) -> bool:
    expires_text, _, signature = (value or "").partition(".")
    if not expires_text.isdigit() or int(expires_text) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(signature, _signature(api_key, int(expires_text)))


def _cookies(header: str | None) -> dict[str, str]:
    out = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out[name] = value
    return out


def _is_owner_key(app: App, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(str(key).encode(), app.api_key.encode())


@dataclass(frozen=True)
class Request:
    method: str
    headers: Headers
    form: dict[str, str]  # a POST's urlencoded fields
    args: dict[str, str]  # the query string's

    def authenticated(self, app: App) -> bool:
        if _is_owner_key(app, self.headers.get("x-api-key")):
            return True
        return _valid_session(app.api_key, _cookies(self.headers.get("cookie")).get(COOKIE))


def _html(status: int, body: str, *headers: tuple[str, str]) -> Response:
    return status, body.encode(), HTML, PAGE_HEADERS + headers


def _redirect(location: str, *headers: tuple[str, str]) -> Response:
    return 303, b"", None, (("Location", location), ("Cache-Control", "no-store"), *headers)


def _safe_next(target: str | None) -> str:
    """Only our own pages, so /login cannot be made to send a browser elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and handles(target.split("?")[0]):
        return target if target not in ("/login", "/logout") else "/"
    return "/"


# routes


def respond(app: App, method: str, path: str, query: str, headers: Headers, body: bytes) -> Response:
    """One dashboard request: (status, body, content type, extra headers)."""
    if path == pages.CSS_PATH:
        return 200, pages.CSS.encode(), "text/css; charset=utf-8", (("Cache-Control", "max-age=300"),)
    writes = ("/login", "/logout")
    allowed = ("GET", "HEAD", "POST") if path in writes else ("GET", "HEAD")
    if method not in allowed:
        return 405, b"Method Not Allowed", "text/plain; charset=utf-8", (("Allow", ", ".join(allowed)),)
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()} if method == "POST" else {}
    request = Request(method, headers, form, {k: v[-1] for k, v in parse_qs(query).items()})
    if path == "/login":
        return _login(app, request)
    if path == "/logout":
        if method != "POST":
            return _redirect("/login")
        return _redirect("/login", ("Set-Cookie", f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"))
    if not request.authenticated(app):
        return _redirect("/login?next=" + quote(path + (f"?{query}" if query else ""), safe=""))
    if path == "/":
        return _html(200, pages.overview(overview(app), app.counts()))
    if path == "/requests":
        return _html(200, pages.requests(app.log.entries()[-REQUESTS_SHOWN:], app.log.counters()))
    compose_id = path.removeprefix("/compose/")
    compose = app.store.get("compose", compose_id)
    if compose is None:
        return _html(404, pages.not_found(f"no compose {compose_id!r} on this server"))
    return _html(200, pages.compose(compose_detail(app, compose)))


def _login(app: App, request: Request) -> Response:
    target = _safe_next(request.form.get("next") or request.args.get("next"))
    if request.method != "POST":
        if request.authenticated(app):
            return _redirect(target)
        return _html(200, pages.login(target, error=None))
    if not _is_owner_key(app, request.form.get("key")):
        return _html(401, pages.login(target, error="That is not this server's owner API key."))
    cookie = f"{COOKIE}={session_cookie(app.api_key)}; Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Strict"
    return _redirect(target, ("Set-Cookie", cookie))


# what the pages show, read from the store in a few queries


def queue_positions(app: App) -> dict[str, str | int]:
    """compose id -> `running`, or its 1-based place in the deploy queue."""
    snapshot = app.deploys.snapshot()
    out: dict[str, str | int] = {cid: "running" for cid in snapshot["running"]}
    for place, cid in enumerate(snapshot["pending"], start=1):
        out.setdefault(cid, place)
    return out


def overview(app: App) -> list[pages.ProjectView]:
    store = app.store
    projects = store.all("project")
    envs = store.children_of_many("environment", [p["projectId"] for p in projects])
    composes = store.children_of_many("compose", [e["environmentId"] for es in envs.values() for e in es])
    compose_ids = [c["composeId"] for cs in composes.values() for c in cs]
    deployments = store.children_of_many("deployment", compose_ids)
    domains = store.children_of_many("domain", compose_ids)
    queue = queue_positions(app)

    def summary(c: dict[str, Any]) -> pages.ComposeSummary:
        cid = c["composeId"]
        latest = deployments[cid][-1] if deployments[cid] else None  # oldest first
        return pages.ComposeSummary(c, latest, len(deployments[cid]), domains[cid], queue.get(cid))

    def environment(e: dict[str, Any]) -> pages.EnvironmentView:
        return pages.EnvironmentView(e, [summary(c) for c in composes[e["environmentId"]]])

    return [pages.ProjectView(p, [environment(e) for e in envs[p["projectId"]]]) for p in projects]


def compose_detail(app: App, compose: dict[str, Any]) -> pages.ComposeDetail:
    store = app.store
    env = store.get("environment", compose["environmentId"]) or {}
    project = store.get("project", env.get("projectId", "")) or {}
    return pages.ComposeDetail(
        compose=compose,
        environment=env,
        project=project,
        deployments=store.children("deployment", compose["composeId"], newest_first=True),
        domains=store.children("domain", compose["composeId"]),
        queue=queue_positions(app).get(compose["composeId"]),
    )
