"""HTTP front: Dokploy's Next.js + `@dokploy/trpc-openapi` request pipeline, plus the control API.

For `/api/<router>.<procedure>` the order is Dokploy's, with the test knobs where a proxy or a broken network
would act:

1. knobs: 429 from a proxy, added latency, injected 5xx / dropped connection / timeout;
2. Next.js parses a JSON body *before* the handler: over 1 MB -> 413 `Body exceeded 1mb limit`, malformed ->
   400 plain-text `Invalid JSON` (no content type), even without an API key;
3. the API key (`x-api-key`), checked before routing: 401 `{"message":"Unauthorized"}` for a missing, wrong or
   (knob) exhausted key, whatever the path;
4. routing: unknown procedure or wrong method -> 404 `Not found`; HEAD -> 204; a mutation without a JSON
   content type -> 415;
5. the procedure: zod input validation, then the handler; a knob may drop the connection after it committed.

`/api/health` answers `{"ok":true}` without a key and is never faulted. The stdlib threading server is used
because it can drop or stall a connection at will, which the fault knobs need.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dokploy_local import control, dashboard
from dokploy_local.app import App, kind_of, resolve
from dokploy_local.errors import UNAUTHORIZED_BODY, TrpcError, error_body
from dokploy_local.procedures import NO_BODY

SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
NEXT_JSON = "application/json; charset=utf-8"  # Next's res.json()
TRPC_JSON = "application/json"  # trpc-openapi's sendResponse
BODY_LIMIT = 1024 * 1024
MAX_READ = 64 * 1024 * 1024
PROXY_PAGES = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # JSON.parse rejects NaN and Infinity


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class _Dropped(Exception):
    pass


class DokployHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: App, *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DokployHTTPServer
    _unrecorded: tuple[dict[str, Any], float] | None = None  # the API call being answered, until it is logged

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY they meet the client's delayed ACK (~40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # plumbing

    def _send(
        self, status: int, body: bytes, content_type: str | None, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self._record(status)
        self.log_request(status)
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for name, value in SECURITY_HEADERS + headers:
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self) -> None:
        """Close without a byte of answer: the client sees the connection end."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, chunks)) > MAX_READ:
                    raise ValueError("body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_READ:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    # routing

    def _serve(self) -> None:
        split = urlsplit(self.path)
        try:
            raw = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(413, b"Body exceeded 1mb limit", None)
            return
        path = split.path
        if path == "/__local" or path.startswith("/__local/"):
            self._control(path, split.query, raw)
        elif path == "/api/health":
            self._send(200, dumps({"ok": True}), NEXT_JSON)
        elif path.startswith("/api/"):
            self._api(path, split.query, raw)
        elif dashboard.handles(path):  # the read-only dashboard (dokploy_local/dashboard.py)
            self._send(*dashboard.respond(self.server.app, self.command, path, split.query, self.headers, raw))
        else:
            self._send(404, b"Not Found", "text/plain; charset=utf-8")

    def _control(self, path: str, query_string: str, raw: bytes) -> None:
        app = self.server.app
        if self.headers.get("x-api-key") != app.api_key:
            self._send(401, dumps({"error": "the control API needs the owner API key in x-api-key"}), TRPC_JSON)
            return
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            self._send(400, dumps({"error": "body is not JSON"}), TRPC_JSON)
            return
        query = {k: v[-1] for k, v in parse_qs(query_string).items()}
        try:
            status, payload = control.handle(app, self.command, path, query, body)
        except control.ControlError as error:
            status, payload = error.status, {"error": str(error)}
        self._send(status, dumps(payload), TRPC_JSON)

    def _api(self, path: str, query_string: str, raw: bytes) -> None:
        api_path = path[len("/api") :]
        if len(api_path) > 1 and api_path.endswith("/"):  # Next.js strips trailing slashes with a redirect
            location = "/api" + api_path.rstrip("/") + (f"?{query_string}" if query_string else "")
            self._send(308, location.encode(), None, (("Location", location),))
            return
        procedure = resolve(self.command, api_path)
        entry: dict[str, Any] = {
            "time": time.time(),
            "method": self.command,
            "path": path,
            "procedure": procedure,
            "kind": kind_of(procedure),
            "principal": None,
            "status": None,
            "outcome": "ok",
            "input": None,
        }
        self._unrecorded = (entry, time.monotonic())
        try:
            self._api_call(entry, procedure, query_string, raw)
        except _Dropped:
            self._drop()
        finally:
            self._record(None)  # no answer was sent (dropped, timed out, or a bug)

    def _record(self, status: int | None) -> None:
        """Log the API call being answered before its answer leaves: a client that reads the request log
        right after the answer must find its call there."""
        if self._unrecorded is None:
            return
        (entry, started), self._unrecorded = self._unrecorded, None
        entry["status"] = status
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        self.server.app.log.record(entry)

    def _api_call(self, entry: dict[str, Any], procedure: str | None, query_string: str, raw: bytes) -> None:
        app = self.server.app
        decision = app.knobs.decide(procedure, entry["kind"] == "write")
        if decision.fault == "throttle":
            entry["outcome"] = "throttled"
            retry = (("Retry-After", str(app.knobs.snapshot()["retry_after_seconds"])),)
            self._send(429, b"Too Many Requests", "text/plain; charset=utf-8", retry)
            return
        if decision.latency_s:
            app.stopping.wait(decision.latency_s)
        if decision.fault == "error":
            entry["outcome"] = "injected_error"
            status = decision.error_status
            if status == 500:
                error = TrpcError("INTERNAL_SERVER_ERROR", "Internal server error")
                self._send(500, dumps(error_body(error, procedure)), TRPC_JSON)
            else:
                self._send(status, PROXY_PAGES.get(status, "Server Error").encode(), "text/plain; charset=utf-8")
            return
        if decision.fault == "drop":
            entry["outcome"] = "dropped"
            raise _Dropped
        if decision.fault == "timeout":
            entry["outcome"] = "timeout"
            app.stopping.wait(app.knobs.snapshot()["timeout_seconds"])
            raise _Dropped

        content_type = self.headers.get("Content-Type")
        media = content_type.split(";")[0].strip().lower() if content_type else None
        body: Any = None
        if media in ("application/json", "application/ld+json"):
            if len(raw) > BODY_LIMIT:
                self._send(413, b"Body exceeded 1mb limit", None)
                return
            text = raw.decode("utf-8", "replace")
            try:
                body = json.loads(text, parse_constant=_reject_constant) if text else {}
            except ValueError:
                self._send(400, b"Invalid JSON", None)
                return

        if decision.fault == "unauthorized":
            entry["outcome"] = "unauthorized_burst"
            self._send(401, dumps(UNAUTHORIZED_BODY), NEXT_JSON)
            return
        principal = app.authenticate(self.headers.get("x-api-key"))
        if principal is None:
            entry["outcome"] = "unauthorized"
            self._send(401, dumps(UNAUTHORIZED_BODY), NEXT_JSON)
            return
        entry["principal"] = principal.role

        if procedure is None:
            if self.command == "HEAD":
                self._send(204, b"", TRPC_JSON)
                return
            self._error(entry, TrpcError("NOT_FOUND", "Not found"), None)
            return
        if entry["kind"] == "write":
            if not (content_type or "").startswith("application/json"):
                message = f'Unsupported content-type "{content_type}' if content_type else "Missing content-type header"
                self._error(entry, TrpcError("UNSUPPORTED_MEDIA_TYPE", message), procedure)
                return
            raw_input = body if isinstance(body, dict) else {}  # `{...body}` of an array or a number is `{}`
        else:
            raw_input = {
                k: v[0] if len(v) == 1 else v for k, v in parse_qs(query_string, keep_blank_values=True).items()
            }
        entry["input"] = raw_input

        try:
            result = app.call(procedure, principal, raw_input)
        except TrpcError as error:
            status, payload, outcome = error.status, dumps(error_body(error, procedure)), "error"
        except Exception as error:  # a bug here, or a case we map to Dokploy's unhandled 500
            traceback.print_exc(file=sys.stderr)
            status, outcome = 500, "error"
            payload = dumps(error_body(TrpcError("INTERNAL_SERVER_ERROR", str(error)), procedure))
        else:
            status, outcome = 200, "ok"
            payload = b"" if result is NO_BODY else dumps(result)
        if decision.commit_drop and status == 200:
            entry["outcome"] = "committed_then_dropped"
            raise _Dropped
        entry["outcome"] = outcome
        self._send(status, payload, TRPC_JSON)

    def _error(self, entry: dict[str, Any], error: TrpcError, procedure: str | None) -> None:
        entry["outcome"] = "error"
        self._send(error.status, dumps(error_body(error, procedure)), TRPC_JSON)


def make_server(app: App, host: str, port: int, *, verbose: bool = False) -> DokployHTTPServer:
    return DokployHTTPServer((host, port), app, verbose=verbose)
