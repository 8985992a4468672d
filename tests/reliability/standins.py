"""Two stand-ins for servers that are NOT Dokploy, which the client must recognise and refuse:

- `html`: a web server that answers every path with an HTML 404 page (a proxy, another site, a wrong path);
- `old`: a server that answers `settings.getDokployVersion` like a Dokploy older than v0.25 would.

Each records the requests it got, so a test can show nothing was written (no POST). Loopback, free port.

And `gated_proxy(upstream, held)`: a plain HTTP reverse proxy that holds requests whose path contains `held` until
the test opens the gate, to put a server-side event (OpenBao sealed) between two calls in a fixed order.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class StandIn:
    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]


@contextmanager
def stand_in(kind: str, version: str = "v0.24.3") -> Iterator[StandIn]:
    record: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            record.append((self.command, self.path))
            if kind == "old" and self.path.startswith("/api/settings.getDokployVersion"):
                body, status, ctype = json.dumps(version).encode(), 200, "application/json"
            elif kind == "old":
                body, status, ctype = b'{"message":"Unauthorized"}', 401, "application/json"
            else:
                body = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>Not Found</body></html>"
                status, ctype = 404, "text/html; charset=utf-8"
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StandIn(url=f"http://127.0.0.1:{server.server_address[1]}", requests=record)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Gate:
    url: str
    reached: threading.Event = field(default_factory=threading.Event)  # a held request is waiting
    opened: threading.Event = field(default_factory=threading.Event)


@contextmanager
def gated_proxy(upstream: str, held: str) -> Iterator[Gate]:
    target = urlsplit(upstream)
    gate = Gate(url="")

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            if held in self.path:
                gate.reached.set()
                gate.opened.wait(120)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
            skip = {"host", "connection", "content-length", "transfer-encoding"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            conn.close()
            self.send_response(answer.status)
            for k, v in answer.getheaders():
                if k.lower() not in skip:
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gate.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield gate
    finally:
        gate.opened.set()
        server.shutdown()
        server.server_close()
