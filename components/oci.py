"""A small OCI distribution API client (httpx): manifests by tag, their digests, and re-tagging.

Speaks the token flow GHCR uses: an anonymous request gets `401` with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`; we fetch a token from the realm (with basic
credentials when we have them) and retry. Every failure is a `RegistryError` with a one-line message,
because it ends up as the single line a failed `pulumi preview`/`up` or workflow step shows.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import stamina

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
# Without these the registry may answer with another (converted, differently-digested) manifest.
ACCEPT = ", ".join(MANIFEST_MEDIA_TYPES)

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """Any registry failure; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ManifestNotFound(RegistryError):
    pass


class RegistryAuthError(RegistryError):
    pass


class RegistryUnavailable(RegistryError):
    pass


class _Transient(Exception):
    """A failure worth retrying (connection trouble, 5xx); becomes RegistryUnavailable when retries run out."""


@dataclass(frozen=True)
class ImageName:
    """`registry/repository`, e.g. `ghcr.io/wangzitian0/finance_report-backend`."""

    registry: str
    repository: str

    @classmethod
    def parse(cls, image: str) -> ImageName:
        registry, _, repository = image.partition("/")
        if not repository or ("." not in registry and ":" not in registry and registry != "localhost"):
            raise RegistryError(f"image {image!r} must name its registry, e.g. ghcr.io/owner/name")
        if any(c in repository for c in "@:") or repository != repository.lower():
            raise RegistryError(f"image {image!r}: give the repository without tag or digest, in lower case")
        return cls(registry, repository)

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print the password
        return f"Credentials(username={self.username!r})"

    @classmethod
    def for_reading(cls, registry: str) -> Credentials | None:
        """What digest lookups use: REGISTRY_READ_USERNAME/REGISTRY_READ_PASSWORD; for ghcr.io also
        GHCR_READ_TOKEN (a read:packages token, user GITHUB_ACTOR); else the explicit REGISTRY_* pair.

        Never GITHUB_TOKEN: in the jobs that plan staging and production it holds the GitHub admin token the
        github provider needs, which must not double as a registry password (a read needs no write power)."""
        found = _pair("REGISTRY_READ_USERNAME", "REGISTRY_READ_PASSWORD")
        if found is None and registry == "ghcr.io" and os.environ.get("GHCR_READ_TOKEN"):
            found = (os.environ.get("GITHUB_ACTOR") or "github-actions", os.environ["GHCR_READ_TOKEN"])
        found = found or _pair("REGISTRY_USERNAME", "REGISTRY_PASSWORD")
        return cls(*found) if found else None

    @classmethod
    def for_pushing(cls, registry: str) -> Credentials | None:
        """What re-tagging and builds use: REGISTRY_USERNAME/REGISTRY_PASSWORD; for ghcr.io also
        GITHUB_ACTOR/GITHUB_TOKEN (the release job's own token, with `packages: write`)."""
        found = _pair("REGISTRY_USERNAME", "REGISTRY_PASSWORD")
        if found is None and registry == "ghcr.io":
            found = _pair("GITHUB_ACTOR", "GITHUB_TOKEN")
        return cls(*found) if found else None


def _pair(user_var: str, password_var: str) -> tuple[str, str] | None:
    user, password = os.environ.get(user_var), os.environ.get(password_var)
    return (user, password) if user and password else None


@dataclass(frozen=True)
class Manifest:
    digest: str  # sha256 of `body`, the exact bytes the registry stores
    media_type: str
    body: bytes


def _is_loopback(registry: str) -> bool:
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


def _error_detail(resp: httpx.Response) -> str:
    try:
        errors = resp.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or resp.reason_phrase
    except (ValueError, AttributeError):
        return resp.reason_phrase


class RegistryClient:
    """One registry. HTTPS, except plain HTTP for loopback registries (like Docker's default for localhost)."""

    def __init__(
        self,
        registry: str,
        *,
        credentials: Credentials | None = None,
        scheme: str | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.registry = registry
        self.credentials = credentials
        self.attempts = attempts
        self._base = f"{scheme or ('http' if _is_loopback(registry) else 'https')}://{registry}"
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)
        self._tokens: dict[str, str] = {}  # scope -> bearer token

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---- manifests ------------------------------------------------------------------------------
    def find_manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest (index or image) `reference` points to, or None when the tag does not exist."""
        _check_reference(reference)
        resp = self._send("GET", repository, f"/v2/{repository}/manifests/{reference}", headers={"Accept": ACCEPT})
        if resp.status_code == 404:
            return None
        self._raise_for(resp, repository, f"reading {repository}:{reference}")
        media_type = resp.headers.get("content-type", "").split(";")[0].strip()
        if media_type in ("", "application/json", "application/octet-stream", "text/plain"):
            media_type = _body_media_type(resp.content) or media_type  # a registry that types nothing
        if media_type not in MANIFEST_MEDIA_TYPES:
            raise RegistryError(
                f"{self.registry}/{repository}:{reference} is a {media_type or 'untyped'} manifest; "
                "only OCI and Docker v2 manifests and indexes are supported (push it again with a current builder)"
            )
        digest = "sha256:" + hashlib.sha256(resp.content).hexdigest()
        header = resp.headers.get("docker-content-digest")
        if header and header.startswith("sha256:") and header != digest:
            raise RegistryError(
                f"{self.registry}/{repository}:{reference}: Docker-Content-Digest {header} does not match "
                f"the manifest bytes ({digest}); refusing to pin an unverifiable image"
            )
        return Manifest(digest=digest, media_type=media_type, body=resp.content)

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        manifest = self.find_manifest(repository, reference)
        if manifest is None:
            raise ManifestNotFound(
                f"image {self.registry}/{repository}:{reference} not found: no such tag in the registry"
            )
        return manifest

    def resolve(self, repository: str, tag: str) -> str:
        """The digest of the index/manifest `tag` points to."""
        return self.get_manifest(repository, tag).digest

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        _check_reference(tag)
        resp = self._send(
            "PUT",
            repository,
            f"/v2/{repository}/manifests/{tag}",
            headers={"Content-Type": manifest.media_type},
            content=manifest.body,
        )
        self._raise_for(resp, repository, f"writing {repository}:{tag}")
        stored = resp.headers.get("docker-content-digest", manifest.digest)
        if stored != manifest.digest:
            raise RegistryError(
                f"{self.registry}/{repository}:{tag} was stored as {stored}, not {manifest.digest}; "
                "the registry rewrote it"
            )
        return stored

    def retag(self, repository: str, source: str, new_tag: str) -> str:
        """Point `new_tag` at the manifest `source` points to (same bytes, same digest; no rebuild).

        Idempotent; refuses to move an existing tag to a different manifest.
        """
        manifest = self.get_manifest(repository, source)
        existing = self.find_manifest(repository, new_tag)
        if existing is not None:
            if existing.digest == manifest.digest:
                return existing.digest
            raise RegistryError(
                f"{self.registry}/{repository}:{new_tag} already points to {existing.digest}, not "
                f"{source}'s {manifest.digest}; a released tag is never moved (cut a new version)"
            )
        return self.put_manifest(repository, new_tag, manifest)

    # ---- HTTP, auth and errors --------------------------------------------------------------------
    def _send(
        self, method: str, repository: str, path: str, *, headers: dict[str, str], content: bytes | None = None
    ) -> httpx.Response:
        scope = f"repository:{repository}:{'pull' if method in ('GET', 'HEAD') else 'pull,push'}"
        resp = self._request(method, path, headers=self._auth(scope, headers), content=content)
        if resp.status_code != 401:
            return resp
        scheme, params = _parse_challenge(resp.headers.get("www-authenticate", ""))
        if scheme == "bearer" and "realm" in params:
            scope = params.get("scope", scope)
            self._tokens[scope] = self._fetch_token(params["realm"], params.get("service"), scope)
        elif scheme == "basic" and self.credentials:
            self._tokens[scope] = ""  # marker: send basic credentials
        else:
            raise self._auth_error(repository, "no credentials accepted")
        resp = self._request(method, path, headers=self._auth(scope, headers), content=content)
        if resp.status_code == 401:
            raise self._auth_error(repository, _error_detail(resp))
        return resp

    def _auth(self, scope: str, headers: dict[str, str]) -> dict[str, str]:
        token = self._tokens.get(scope)
        if token:
            return {**headers, "Authorization": f"Bearer {token}"}
        if token == "" and self.credentials:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            return {**headers, "Authorization": "Basic " + base64.b64encode(pair).decode()}
        return headers

    def _fetch_token(self, realm: str, service: str | None, scope: str) -> str:
        params = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        if self.credentials:
            params["account"] = self.credentials.username
        auth = httpx.BasicAuth(self.credentials.username, self.credentials.password) if self.credentials else None
        resp = self._request("GET", realm, params=params, auth=auth, what=f"token service {realm}")
        if resp.status_code in (401, 403):
            who = f"user {self.credentials.username!r}" if self.credentials else "anonymous access"
            raise RegistryAuthError(
                f"registry {self.registry} refused the credentials ({who}) at {realm} (HTTP {resp.status_code}); "
                "check REGISTRY_READ_USERNAME/REGISTRY_READ_PASSWORD or GHCR_READ_TOKEN (read:packages) for lookups, "
                "REGISTRY_USERNAME/REGISTRY_PASSWORD (write:packages) to re-tag"
            )
        if resp.status_code != 200:
            raise RegistryError(f"token service {realm} answered HTTP {resp.status_code}")
        try:
            body = resp.json()
            return str(body.get("token") or body["access_token"])
        except (ValueError, KeyError, AttributeError):
            raise RegistryError(f"token service {realm} answered without a token") from None

    def _auth_error(self, repository: str, detail: str) -> RegistryAuthError:
        who = f"user {self.credentials.username!r}" if self.credentials else "anonymous access"
        return RegistryAuthError(
            f"registry {self.registry} denied {who} access to {repository} ({detail}); check the registry "
            "credentials and that the image exists and is visible to them"
        )

    def _raise_for(self, resp: httpx.Response, repository: str, what: str) -> None:
        if resp.status_code == 403:
            raise self._auth_error(repository, _error_detail(resp))
        if resp.status_code == 404:
            raise ManifestNotFound(f"{what} in {self.registry}: {_error_detail(resp)}")
        if resp.status_code >= 400:
            raise RegistryError(
                f"registry {self.registry} answered HTTP {resp.status_code} {what}: {_error_detail(resp)}"
            )

    def _request(self, method: str, url: str, *, what: str | None = None, **kw: object) -> httpx.Response:
        target = what or f"registry {self.registry}"
        if url.startswith("/"):
            url = self._base + url
        try:
            for attempt in stamina.retry_context(
                on=_Transient, attempts=self.attempts, timeout=30, wait_initial=0.2, wait_jitter=0.2, wait_max=2
            ):
                with attempt, _transient(target):
                    resp = self._http.request(method, url, **kw)  # type: ignore[arg-type]
                    if resp.status_code >= 500:
                        raise _Transient(f"{target} answered HTTP {resp.status_code}")
                    return resp
        except _Transient as exc:
            raise RegistryUnavailable(f"{exc} (after {self.attempts} attempts)") from None
        raise AssertionError("unreachable: stamina either returns or raises")


@contextmanager
def _transient(target: str) -> Iterator[None]:
    try:
        yield
    except (httpx.TransportError, OSError) as exc:
        raise _Transient(f"{target} is unreachable ({type(exc).__name__}: {exc or 'no detail'})") from None


def _check_reference(reference: str) -> None:
    if not (_TAG.fullmatch(reference) or _DIGEST.fullmatch(reference)):
        raise RegistryError(f"{reference!r} is neither a valid tag nor a sha256 digest")


def _body_media_type(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
