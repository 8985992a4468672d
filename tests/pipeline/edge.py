"""STAND-IN for the internet a job reaches: an HTTP(S) proxy on loopback the jobs get as HTTPS_PROXY.

Nothing outside this machine can be reached, yet the workflows address real names: `ghcr.io` for images,
`https://report-pr-<N>.<base>` for the smoke test, GitHub's API for `gh`. This proxy terminates TLS with
a throwaway CA (the jobs trust it through SSL_CERT_FILE) and routes by host name:

- `ghcr.io` -> the local registry (a real `docker-registry` with token auth, tests/support/registry.py);
- `api.github.localhost` (where `gh` goes with GH_HOST=github.localhost) -> the GitHub API stand-in;
- an app host `report[-<env>].<base>` -> the **simulated app** below;
- anything else -> 502, naming the host.

The simulated app is what Traefik in front of the deployed containers would answer, decided from what
the local Dokploy server holds (no container runs here): the host must be a domain of a compose whose
last deployment is `done`, and every image its compose file names must exist in the registry (as
`docker pull` would need). Then `/` redirects to `/dashboard` (200) and the health path answers
`{"status": "healthy"}`; otherwise 502 (no such router, deployment not done) or 503 (image missing).
`break_host(host)` makes a host answer 503 to simulate an app that deployed but is broken.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Reply = tuple[int, dict[str, str], bytes]
_IMAGE = re.compile(r"^\s*image:\s*['\"]?([^'\"\s]+)['\"]?\s*$", re.MULTILINE)


class CertificateAuthority:
    def __init__(self, directory: Path) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "finance-report pipeline test CA")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.bundle = directory / "ca.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def context_for(self, host: str) -> ssl.SSLContext:
        with self._lock:
            if host in self._contexts:
                return self._contexts[host]
            key = ec.generate_private_key(ec.SECP256R1())
            now = dt.datetime.now(dt.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                .issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
                )
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256())
            )
            safe = re.sub(r"[^a-z0-9.-]", "_", host)
            pem = self.dir / f"{safe}.pem"
            pem.write_bytes(
                cert.public_bytes(serialization.Encoding.PEM)
                + key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(pem)
            self._contexts[host] = ctx
            return ctx


def forward(upstream: str, host: str, scheme: str) -> Callable[[str, str, dict[str, str], bytes], Reply]:
    """A transparent reverse proxy to `upstream`, keeping the public Host so absolute URLs stay public."""
    client = httpx.Client(base_url=upstream, timeout=120, trust_env=False)

    def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        hop = {"host", "connection", "proxy-connection", "keep-alive", "transfer-encoding", "proxy-authorization"}
        sent = {k: v for k, v in headers.items() if k.lower() not in hop}
        sent.update({"Host": host, "X-Forwarded-Proto": scheme, "X-Forwarded-Host": host})
        resp = client.request(method, path, headers=sent, content=body)
        out = {k: v for k, v in resp.headers.items() if k.lower() not in hop | {"content-length", "content-encoding"}}
        return resp.status_code, out, resp.content

    return handle


@dataclass
class SimulatedApp:
    """Traefik plus the app's containers, answered from the local Dokploy server's objects."""

    servers: list[Any]  # dokploy_local.testing.LocalDokploy handles
    image_exists: Callable[[str], bool]
    health_path: str = "/api/health"
    broken: set[str] = field(default_factory=set)
    hits: list[tuple[str, str, int]] = field(default_factory=list)

    def _compose_for(self, host: str) -> dict[str, Any] | None:
        for server in self.servers:
            with httpx.Client(base_url=server.url + "/api", headers={"x-api-key": server.api_key}) as c:
                for project in c.get("/project.all").json():
                    for env in project.get("environments", []):
                        for summary in env.get("compose", []):
                            compose = c.get("/compose.one", params={"composeId": summary["composeId"]}).json()
                            if any(d.get("host") == host for d in compose.get("domains", [])):
                                return dict(compose)
        return None

    def handle(self, host: str, path: str) -> Reply:
        status, headers, body = self._answer(host, path)
        self.hits.append((host, path, status))
        return status, headers, body

    def _answer(self, host: str, path: str) -> Reply:
        compose = self._compose_for(host)
        if compose is None:
            return 502, {}, f"no router for {host} (no Dokploy domain has this host)".encode()
        if compose.get("composeStatus") != "done":
            return 502, {}, f"{host}: compose {compose['name']} is {compose.get('composeStatus')}, not done".encode()
        images = _IMAGE.findall(str(compose.get("composeFile") or ""))
        app_images = [i for i in images if "finance_report-" in i]
        missing = [i for i in app_images if not self.image_exists(i)]
        if missing or not app_images:
            return 503, {}, f"{host}: cannot pull {', '.join(missing) or 'any app image'}".encode()
        if host in self.broken:
            return 503, {}, f"{host}: the app answers 503 (made broken by the test)".encode()
        tag = app_images[0].rsplit("@", 1)[-1].rsplit(":", 1)[-1]
        if path == self.health_path:
            return 200, {"content-type": "application/json"}, json.dumps({"status": "healthy", "image": tag}).encode()
        if path == "/":
            return 307, {"location": "/dashboard"}, b""
        return 200, {"content-type": "text/html"}, f"<html>Finance Report {tag}</html>".encode()


class Edge:
    def __init__(self, directory: Path, app: SimulatedApp, app_domain: str) -> None:
        self.ca = CertificateAuthority(directory)
        self.app = app
        self.app_host = re.compile(rf"^report(-[a-z0-9-]+)?\.{re.escape(app_domain)}$")
        self.routes: dict[str, Callable[[str, str, dict[str, str], bytes], Reply]] = {}
        self.log: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def route(self, host: str, upstream: str, scheme: str = "https") -> None:
        self.routes[host] = forward(upstream, host, scheme)

    def answer(self, host: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        self.log.append(f"{method} {host}{path}")
        if host in self.routes:
            return self.routes[host](method, path, headers, body)
        if self.app_host.match(host):
            return self.app.handle(host, urlsplit(path).path)
        return 502, {}, f"the pipeline's network stand-in has no route to {host}".encode()

    def start(self) -> Edge:
        edge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            tls_host: str | None = None

            def log_message(self, *args: object) -> None:
                pass

            def do_CONNECT(self) -> None:
                host = self.path.split(":", 1)[0]
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                try:
                    tls = edge.ca.context_for(host).wrap_socket(self.connection, server_side=True)
                except (ssl.SSLError, OSError):
                    self.close_connection = True
                    return
                self.connection = tls
                self.rfile = tls.makefile("rb")
                self.wfile = tls.makefile("wb")
                self.tls_host = host
                self.close_connection = False
                while not self.close_connection:
                    self.handle_one_request()

            def _any(self) -> None:
                if self.tls_host:
                    host, path = self.tls_host, self.path
                else:
                    parts = urlsplit(self.path)
                    host = parts.hostname or self.headers.get("host", "").split(":")[0]
                    path = parts.path + (f"?{parts.query}" if parts.query else "")
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    body = self._chunked()
                try:
                    status, headers, data = edge.answer(host, self.command, path, dict(self.headers), body)
                except httpx.HTTPError as exc:
                    status, headers, data = 502, {}, f"{host}: upstream failed: {exc}".encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                self.wfile.flush()

            def _chunked(self) -> bytes:
                out = b""
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
