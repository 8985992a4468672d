"""A real OCI registry on loopback with GHCR-style token auth, for tests.

Debian's `docker-registry` (distribution 2.8) runs with `auth: token`, pointing its realm at a small token
server of ours: it answers `GET /token?service=&scope=` with a JWT signed by a key whose self-signed
certificate the registry trusts (`rootcertbundle`; the token carries it in `x5c`). Users are a dict;
each gets the actions it is allowed on every repository. Storage is a temporary directory; ports are
free ones on 127.0.0.1. `push_*` helpers build tiny OCI images (one layer each) and copy them in with
skopeo, an implementation independent of the client under test.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SERVICE = "test-registry"
ISSUER = "test-token-issuer"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST_TYPES = (
    OCI_INDEX,
    OCI_MANIFEST,
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def registry_binary() -> str | None:
    return shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if Path("/usr/bin/docker-registry").exists() else None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def key_and_cert() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


@dataclass
class TokenServer:
    """Issues registry JWTs. `users` maps user -> (password, allowed actions)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    users: Mapping[str, tuple[str, tuple[str, ...]]]
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                accepted, user = outer._authenticate(self.headers.get("Authorization"))
                outer.requests.append({**query, "user": user})
                if not accepted:
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                    return
                self._reply(200, {"token": outer.issue(user, query.get("scope", "")), "expires_in": 300})

            def _reply(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _authenticate(self, header: str | None) -> tuple[bool, str]:
        """(accepted, user); an anonymous request is accepted as user ""."""
        if not header:
            return True, ""
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            return False, ""
        known = self.users.get(user)
        return bool(known and secrets.compare_digest(known[0], password)), user

    def issue(self, user: str, scope: str) -> str:
        allowed = set(self.users[user][1]) if user else set()
        access = []
        for item in scope.split(" "):
            parts = item.split(":")
            if len(parts) == 3 and parts[0] == "repository":
                actions = [a for a in parts[2].split(",") if a in allowed]
                access.append({"type": "repository", "name": parts[1], "actions": actions})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "iat": now,
            "nbf": now - 10,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        x5c = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"x5c": [x5c]})


@dataclass
class Registry:
    """A running `docker-registry` with token auth, and its token server."""

    root: Path
    tokens: TokenServer
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, binary: str) -> None:
        self.port = free_port()
        (self.root / "storage").mkdir(parents=True, exist_ok=True)
        (self.root / "cert.pem").write_bytes(self.tokens.cert.public_bytes(serialization.Encoding.PEM))
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            # delete: GHCR deletes package versions (the Packages API stand-in calls `delete_manifest`)
            "storage": {"filesystem": {"rootdirectory": str(self.root / "storage")}, "delete": {"enabled": True}},
            "http": {"addr": self.address, "secret": secrets.token_hex(16)},
            "auth": {
                "token": {
                    "realm": self.tokens.realm,
                    "service": SERVICE,
                    "issuer": ISSUER,
                    "rootcertbundle": str(self.root / "cert.pem"),
                }
            },
        }
        (self.root / "config.yml").write_text(json.dumps(config))  # JSON is YAML
        log = (self.root / "registry.log").open("wb")
        self.proc = subprocess.Popen([binary, "serve", str(self.root / "config.yml")], stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"http://{self.address}/v2/", timeout=1).status_code == 401:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("docker-registry did not answer within 15 s")

    # ---- what the registry holds, as GHCR's own backend reads it (a token minted for `user`) ---------
    def _headers(self, user: str, repository: str, actions: str) -> dict[str, str]:
        token = self.tokens.issue(user, f"repository:{repository}:{actions}")
        return {"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_TYPES)}

    def tags(self, repository: str, user: str) -> list[str]:
        """The repository's tags ([] when nothing was ever pushed to it)."""
        url = f"http://{self.address}/v2/{repository}/tags/list"
        resp = httpx.get(url, headers=self._headers(user, repository, "pull"), timeout=30)
        if resp.status_code == 404:
            return []
        resp.raise_for_status()
        return sorted(resp.json().get("tags") or [])

    def digest(self, repository: str, tag: str, user: str) -> str:
        url = f"http://{self.address}/v2/{repository}/manifests/{tag}"
        resp = httpx.head(url, headers=self._headers(user, repository, "pull"), timeout=30)
        resp.raise_for_status()
        return str(resp.headers["docker-content-digest"])

    def delete_manifest(self, repository: str, digest: str, user: str) -> None:
        """DELETE the manifest by digest: the registry untags every tag pointing at it."""
        url = f"http://{self.address}/v2/{repository}/manifests/{digest}"
        resp = httpx.delete(url, headers=self._headers(user, repository, "delete"), timeout=30)
        resp.raise_for_status()

    def tag_pushed_at(self, repository: str, tag: str) -> dt.datetime:
        """When `tag` was last pushed: the storage writes the tag's link file then (no API says so)."""
        link = self.root / "storage/docker/registry/v2/repositories" / repository / "_manifests/tags" / tag
        return dt.datetime.fromtimestamp((link / "current" / "link").stat().st_mtime, dt.UTC)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- images -----------------------------------------------------------------------------------------


@dataclass
class OciLayout:
    """An OCI image layout directory we write ourselves: blobs plus named entries in index.json."""

    path: Path
    refs: dict[str, dict[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self._write_index()

    def blob(self, data: bytes, media_type: str) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (self.path / "blobs" / "sha256" / digest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    def image(self, content: str, arch: str = "amd64") -> dict[str, object]:
        """A one-layer image manifest; returns its descriptor."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            data = content.encode()
            info = tarfile.TarInfo("hello.txt")
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
        diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
        layer = self.blob(gzip.compress(raw.getvalue(), mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
        config = self.blob(
            json.dumps(
                {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "config": {}}
            ).encode(),
            "application/vnd.oci.image.config.v1+json",
        )
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]}
        return {
            **self.blob(json.dumps(manifest).encode(), OCI_MANIFEST),
            "platform": {"architecture": arch, "os": "linux"},
        }

    def index(self, content: str, arches: tuple[str, ...] = ("amd64", "arm64")) -> dict[str, object]:
        """A multi-platform OCI index over one image per architecture; returns its descriptor."""
        manifests = [self.image(f"{content} {arch}", arch) for arch in arches]
        return self.blob(
            json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}).encode(), OCI_INDEX
        )

    def name(self, ref: str, descriptor: dict[str, object]) -> None:
        entry = {k: v for k, v in descriptor.items() if k != "platform"}
        self.refs[ref] = {**entry, "annotations": {"org.opencontainers.image.ref.name": ref}}
        self._write_index()

    def _write_index(self) -> None:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(self.refs.values())}
        (self.path / "index.json").write_text(json.dumps(index))


@contextmanager
def running_registry(root: Path, users: Mapping[str, tuple[str, tuple[str, ...]]]) -> Iterator[Registry]:
    """A started registry storing under `root`, and its token server for `users`; both stopped on exit."""
    binary = registry_binary()
    if not binary or not shutil.which("skopeo"):
        pytest.fail("docker-registry and skopeo are required: run `make test-setup`")
    key, cert = key_and_cert()
    tokens = TokenServer(key=key, cert=cert, users=users)
    tokens.start()
    reg = Registry(root=root, tokens=tokens)
    try:
        reg.start(binary)
        yield reg
    finally:
        reg.stop()
        tokens.stop()


def skopeo_copy(src: str, dest: str, creds: str, *extra: str, home: Path) -> None:
    cmd = ["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", creds]
    proc = subprocess.run(
        [*cmd, *extra, src, dest],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "TMPDIR": str(home)},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo copy {src} {dest} failed: {proc.stderr.strip()}")


def skopeo_raw_manifest(ref: str, creds: str, home: Path) -> bytes:
    proc = subprocess.run(
        ["skopeo", "--insecure-policy", "inspect", "--raw", "--tls-verify=false", "--creds", creds, ref],
        capture_output=True,
        timeout=60,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "TMPDIR": str(home)},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo inspect {ref} failed: {proc.stderr.decode().strip()}")
    return proc.stdout
