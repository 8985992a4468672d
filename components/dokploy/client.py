"""A small, strict httpx client for Dokploy's REST surface (`/api/<router>.<procedure>`).

Transport (dokploy-api.md §1): queries are GET with one query parameter per input field, mutations are
POST with the plain input as JSON; the key goes in `x-api-key`. The key must belong to an **owner or
admin** of the organization: a member key gets 401 for projects outside its access lists and cannot
create projects, so the provider would misreport them as a bad key.

Retries (stamina: exponential backoff with jitter) only where repeating is safe: reads, idempotent
writes (updates, deletes), and any write whose connection was never established. A create or a deploy
whose answer is lost raises `UncertainWriteError`; the caller then looks for the object by its marker
instead of sending it again.

On first use the client reads `settings.getDokployVersion` and refuses versions before v0.25 (no
environments) and v0.28.0 (slash-style paths).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import stamina

from components.dokploy.errors import (
    DokployAuthError,
    DokployBadRequestError,
    DokployConfigError,
    DokployConflictError,
    DokployForbiddenError,
    DokployHTTPError,
    DokployNotFoundError,
    DokployServerError,
    DokployThrottledError,
    DokployTransportError,
    UncertainWriteError,
    UnsupportedVersionError,
)

USER_AGENT = "finance-report-dokploy-provider/1"
ENV_TIMEOUT = "DOKPLOY_TIMEOUT_SECONDS"  # per-request read timeout (default 30 s)
MIN_VERSION = (0, 25, 0)
REFUSED_VERSIONS = {(0, 28, 0): "v0.28.0 served the API at slash paths (/api/project/one); upgrade to v0.28.1 or later"}

# Config keys (stack config is passed whole to dynamic providers) and their environment fallbacks.
CONFIG_URL, ENV_URL = "dokploy:url", "DOKPLOY_URL"
CONFIG_KEY, ENV_KEY = "dokploy:apiKey", "DOKPLOY_API_KEY"
CONFIG_SERVER, ENV_SERVER = "dokploy:serverId", "DOKPLOY_SERVER_ID"


class Redactor:
    """Replaces secret values, in the forms they can take on the wire or in logs, with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 4:  # scrubbing 1-3 characters would shred every message
            return
        self._forms.update(
            {
                secret,
                json.dumps(secret)[1:-1],
                quote(secret, safe=""),
                quote_plus(secret),
                base64.b64encode(secret.encode()).decode().rstrip("="),
            }
        )

    def __call__(self, text: str) -> str:
        for form in sorted(self._forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text


@dataclass(frozen=True)
class ClientSettings:
    url: str
    api_key: str = field(repr=False)
    server_id: str | None = None

    @property
    def api_base(self) -> str:
        return self.url.rstrip("/") + "/api"


def resolve_settings(
    config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> ClientSettings:
    """Stack config (`dokploy:url`, `dokploy:apiKey`, `dokploy:serverId`) first, then the environment.

    Read at call time, never stored in state or in the serialized provider.
    """
    config = config or {}
    environ = os.environ if environ is None else environ
    url = str(config.get(CONFIG_URL) or environ.get(ENV_URL) or "").strip()
    key = str(config.get(CONFIG_KEY) or environ.get(ENV_KEY) or "").strip()
    server = str(config.get(CONFIG_SERVER) or environ.get(ENV_SERVER) or "").strip() or None
    if not url:
        raise DokployConfigError(f"no Dokploy URL: set `pulumi config set {CONFIG_URL} https://...` or {ENV_URL}")
    if not re.match(r"^https?://[^\s/]+", url):
        raise DokployConfigError(
            f"Dokploy URL {url!r} is not an http(s) URL; set it to e.g. https://dokploy.example.com"
        )
    if not key:
        raise DokployConfigError(
            f"no Dokploy API key: set `pulumi config set --secret {CONFIG_KEY} ...` or {ENV_KEY} "
            "(an owner or admin key from Dokploy Settings > Profile > API/CLI)"
        )
    return ClientSettings(url=url.rstrip("/"), api_key=key, server_id=server)


def parse_version(raw: Any) -> tuple[int, int, int]:
    m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(raw).strip())
    if not m:
        raise UnsupportedVersionError(
            f"Dokploy reported version {str(raw)[:40]!r}, which is not vX.Y.Z; this provider supports v0.25.0 and "
            "later except v0.28.0",
            procedure="settings.getDokployVersion",
        )
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def check_version(raw: Any) -> str:
    """The normalised version string, or UnsupportedVersionError with what to do about it."""
    v = parse_version(raw)
    text = "v{}.{}.{}".format(*v)
    if v < MIN_VERSION:
        raise UnsupportedVersionError(
            f"Dokploy {text} is not supported: environments arrived in v0.25.0 and this provider needs them; "
            "upgrade Dokploy to v0.25.0 or later (v0.30.x is what it was checked against)",
            procedure="settings.getDokployVersion",
        )
    if v in REFUSED_VERSIONS:
        raise UnsupportedVersionError(
            f"Dokploy {text} is not supported: {REFUSED_VERSIONS[v]}", procedure="settings.getDokployVersion"
        )
    return text


_ERRORS: dict[int, type[DokployHTTPError]] = {
    400: DokployBadRequestError,
    401: DokployAuthError,
    403: DokployForbiddenError,
    404: DokployNotFoundError,
    409: DokployConflictError,
}


# Versions already read and accepted in this process, by (API base, key digest). A dynamic provider builds a
# client per call; without this a refresh read the version once per resource (the benchmark, bench/RESULTS.md).
# Keyed by the key too, so a different (possibly wrong) key is still checked against the server.
_ACCEPTED_VERSIONS: dict[tuple[str, str], str] = {}


class DokployClient:
    """One client per provider call: build it, use it in a `with` block, let it go."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str] = (),
        attempts: int = 5,
        check_version: bool = True,
    ) -> None:
        self.settings = settings
        self.redact = Redactor([settings.api_key, *secrets])
        self._attempts = attempts
        self._check = check_version
        self.version: str | None = None
        self._http = httpx.Client(
            base_url=settings.api_base,
            timeout=httpx.Timeout(timeout or float(os.environ.get(ENV_TIMEOUT) or 30.0), connect=5.0),
            transport=transport,
            headers={"x-api-key": settings.api_key, "accept": "application/json", "user-agent": USER_AGENT},
            follow_redirects=False,
        )

    def __enter__(self) -> DokployClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- public calls -----------------------------------------------------------------------------

    def query(self, procedure: str, **params: Any) -> Any:
        """GET /api/<procedure>?k=v — always safe to repeat."""
        self._ensure_version()
        return self._retrying(lambda: self._send("GET", procedure, params=params), procedure, repeat_safe=True)

    def mutate(self, procedure: str, body: Mapping[str, Any], *, repeat_safe: bool) -> Any:
        """POST /api/<procedure> with a JSON body.

        `repeat_safe` says the write is idempotent (an update to fixed values, a delete). Otherwise it is
        retried only when the connection never opened, and an unknown outcome raises UncertainWriteError.
        """
        self._ensure_version()
        return self._retrying(lambda: self._send("POST", procedure, body=dict(body)), procedure, repeat_safe)

    def server_version(self) -> str:
        self._ensure_version()
        assert self.version is not None
        return self.version

    # --- internals --------------------------------------------------------------------------------

    def _ensure_version(self) -> None:
        if self.version is not None or not self._check:
            return
        key = (str(self.settings.api_base), hashlib.sha256(self.settings.api_key.encode()).hexdigest())
        if key in _ACCEPTED_VERSIONS:
            self.version = _ACCEPTED_VERSIONS[key]
            return
        raw = self._retrying(
            lambda: self._send("GET", "settings.getDokployVersion"), "settings.getDokployVersion", True
        )
        self.version = _ACCEPTED_VERSIONS[key] = check_version(raw)

    def _retrying(self, call: Any, procedure: str, repeat_safe: bool) -> Any:
        def retry_on(exc: Exception) -> bool | float:
            if isinstance(exc, DokployThrottledError):
                return min(max(exc.retry_after, 0.1), 10.0)  # refused before running: always safe, after Retry-After
            if isinstance(exc, DokployTransportError):
                return repeat_safe or not exc.reached_server
            return repeat_safe and isinstance(exc, DokployServerError)

        try:
            for attempt in stamina.retry_context(
                on=retry_on, attempts=self._attempts, timeout=120.0, wait_initial=0.2, wait_max=3.0, wait_jitter=0.5
            ):
                with attempt:
                    return call()
        except DokployTransportError as exc:
            if not repeat_safe and exc.reached_server:
                raise UncertainWriteError(
                    f"Dokploy {procedure}: the request was sent but its answer was lost ({exc}); "
                    "it may have been applied",
                    procedure=procedure,
                ) from None
            raise
        except DokployServerError as exc:
            if not repeat_safe and not isinstance(exc, DokployThrottledError):  # a 429 never ran
                raise UncertainWriteError(
                    f"Dokploy {procedure}: the server failed after receiving the request ({exc}); "
                    "it may have been applied",
                    procedure=procedure,
                    status=exc.status,
                ) from None
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, procedure: str, *, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            if method == "GET":
                resp = self._http.get(f"/{procedure}", params=query)
            else:
                resp = self._http.post(f"/{procedure}", json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise DokployTransportError(
                f"Dokploy {procedure}: cannot connect to {self.settings.url} ({type(exc).__name__})",
                procedure=procedure,
                reached_server=False,
            ) from None
        except httpx.TransportError as exc:
            raise DokployTransportError(
                f"Dokploy {procedure}: {type(exc).__name__} talking to {self.settings.url}",
                procedure=procedure,
                reached_server=True,
            ) from None
        return self._decode(procedure, resp)

    def _decode(self, procedure: str, resp: httpx.Response) -> Any:
        if resp.status_code == 200:
            if not resp.content.strip():
                return None  # procedures returning undefined answer 200 with an empty body
            try:
                return resp.json()
            except ValueError:
                raise DokployServerError(
                    f"Dokploy {procedure}: 200 with a body that is not JSON", procedure=procedure, status=200
                ) from None
        message, code = _error_text(resp)
        message = self.redact(message)
        if resp.status_code == 429:
            raise DokployThrottledError(
                f"Dokploy {procedure}: 429 Too Many Requests", procedure=procedure, retry_after=_retry_after(resp)
            )
        if resp.status_code == 401 and code is None:
            # The auth wrapper's bare {"message": "Unauthorized"}: the key itself was not accepted.
            raise DokployAuthError(
                f"Dokploy {procedure}: 401 Unauthorized - the API key is wrong, expired or rate-limited (Dokploy "
                f"answers all three the same way); check {CONFIG_KEY} / {ENV_KEY}",
                procedure=procedure,
                status=401,
            )
        if resp.status_code == 401:
            # A procedure's own UNAUTHORIZED: the key works but its user may not touch this object.
            raise DokployAuthError(
                f"Dokploy {procedure}: 401 {code}: {message} - the key's user lacks access (a member key, or an id "
                "from another organization or server); use an owner or admin key",
                procedure=procedure,
                status=401,
                code=code,
            )
        cls = _ERRORS.get(resp.status_code)
        if cls is None:
            cls = DokployServerError if resp.status_code >= 500 else DokployHTTPError
        raise cls(
            f"Dokploy {procedure}: HTTP {resp.status_code}{' ' + code if code else ''}: {message}",
            procedure=procedure,
            status=resp.status_code,
            code=code,
        )


def _retry_after(resp: httpx.Response) -> float:
    try:
        return float(resp.headers.get("retry-after", "1"))
    except ValueError:
        return 1.0


def _query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _error_text(resp: httpx.Response) -> tuple[str, str | None]:
    if "html" in resp.headers.get("content-type", ""):
        # A web page, not Dokploy's API (a proxy, another site, the wrong path): the page itself helps nobody.
        return "an HTML page answered, not Dokploy's API; check dokploy:url / DOKPLOY_URL (the server's base URL)", None
    try:
        data = resp.json()
    except ValueError:
        return (resp.text.strip()[:300] or resp.reason_phrase), None
    if isinstance(data, dict):
        code = data.get("code") if isinstance(data.get("code"), str) else None
        return str(data.get("message") or resp.reason_phrase)[:300], code
    return str(data)[:300], None
