"""A tiny HTTP server on loopback whose routes each test sets, standing in for a deployed app (`site` fixture)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Route = Callable[[BaseHTTPRequestHandler], None]


def reply(status: int, body: str = "", headers: dict[str, str] | None = None) -> Route:
    def handle(h: BaseHTTPRequestHandler) -> None:
        data = body.encode()
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("content-length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return handle


def redirect(location: str, status: int = 302) -> Route:
    return reply(status, "", {"location": location})


def slow(seconds: float, then: Route) -> Route:
    def handle(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        then(h)

    return handle


HEALTHY = reply(200, '{"status": "healthy", "version": "x"}', {"content-type": "application/json"})
PAGE = reply(200, "<html>dashboard</html>", {"content-type": "text/html"})


@dataclass
class Site:
    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            state.routes.get(self.path, reply(404, "not found"))(self)

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    state.routes.update({"/": redirect("/dashboard"), "/dashboard": PAGE, "/api/health": HEALTHY})
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
