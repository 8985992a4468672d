"""A small, strict httpx client for Dokploy's REST surface (`/api/<router>.<procedure>`).

Transport (dokploy-api.md §1): queries are GET with one query parameter per input field, mutations are
POST with the plain input as JSON; the key goes in `x-api-key`. The key must belong to an **owner or
admin** of the organization: a member key gets 401 for projects outside its access lists and cannot
create projects, so the provider would misreport them as a bad key.

Retries (stamina: exponential backoff with jitter) only where repeating is safe: reads, idempotent
writes (updates, deletes), and any write whose connection was never established. A create or a deploy
whose answer is lost raises `UncertainWriteError`; the caller then looks for the object by its marker
instead of sending it again.

On first use the client reads `settings.getDokployVersion` and applies the version policy of
`components/dokploy/versions.py` (refused, accepted, or accepted with a warning through `progress.warn`).

Sharp edges handled in their own functions below: request bodies are checked against Dokploy's body limit before
they are sent (`check_body`), fields that must never be sent are refused (`freshVolumes`), a drizzle
`Failed query` answer is a deterministic bad reference and stops at once (`reference_error`), and a bare 401 with
a key that worked earlier in this process names the API-key rate limit (`exhausted_key_error`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import stamina

from components.dokploy import progress, versions
from components.dokploy.errors import (
    DokployAuthError,
    DokployBadRequestError,
    DokployConfigError,
    DokployConflictError,
    DokployForbiddenError,
    DokployHTTPError,
    DokployKeyExhaustedError,
    DokployNotFoundError,
    DokployReferenceError,
    DokployRequestTooLargeError,
    DokployServerError,
    DokployThrottledError,
    DokployTransportError,
    UncertainWriteError,
)

USER_AGENT = "finance-report-dokploy-provider/1"
ENV_TIMEOUT = "DOKPLOY_TIMEOUT_SECONDS"  # per-request read timeout (default 30 s)

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


def check_version(raw: Any) -> str:
    """The normalised version string, or UnsupportedVersionError (the policy: components/dokploy/versions.py)."""
    return versions.judge(raw).version


_ERRORS: dict[int, type[DokployHTTPError]] = {
    400: DokployBadRequestError,
    401: DokployAuthError,
    403: DokployForbiddenError,
    404: DokployNotFoundError,
    409: DokployConflictError,
}


# Keys (API base, key digest) that got an answer in this process: a later bare 401 is then the key's rate limit
# (or a revocation), not a typo.
_KEYS_THAT_WORKED: set[tuple[str, str]] = set()

# Versions already read and accepted in this process, by (API base, key digest). A dynamic provider builds a
# client per call; without this a refresh read the version once per resource (the benchmark, bench/RESULTS.md).
# Keyed by the key too, so a different (possibly wrong) key is still checked against the server.
_ACCEPTED_VERSIONS: dict[tuple[str, str], str] = {}
# A refresh reads every resource at once, on the provider's threads: one of them reads the version, the rest wait.
_VERSION_LOCK = threading.Lock()


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
        payload = dict(body)
        check_body(procedure, payload)
        return self._retrying(lambda: self._send("POST", procedure, body=payload), procedure, repeat_safe)

    def server_version(self) -> str:
        self._ensure_version()
        assert self.version is not None
        return self.version

    # --- internals --------------------------------------------------------------------------------

    @property
    def _key_id(self) -> tuple[str, str]:
        return (str(self.settings.api_base), hashlib.sha256(self.settings.api_key.encode()).hexdigest())

    def _ensure_version(self) -> None:
        if self.version is not None or not self._check:
            return
        key = self._key_id
        with _VERSION_LOCK:
            if key in _ACCEPTED_VERSIONS:
                self.version = _ACCEPTED_VERSIONS[key]
                return
            raw = self._retrying(
                lambda: self._send("GET", "settings.getDokployVersion"), "settings.getDokployVersion", True
            )
            verdict = versions.judge(raw)
            if verdict.warning:
                progress.warn(verdict.warning)  # once per process and server: the verdict is remembered below
            self.version = _ACCEPTED_VERSIONS[key] = verdict.version

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
        return self._decode(procedure, resp, sent=body if method == "POST" else query)

    def _decode(self, procedure: str, resp: httpx.Response, sent: Any = None) -> Any:
        if resp.status_code == 200:
            _KEYS_THAT_WORKED.add(self._key_id)  # an answer from a procedure: the key was accepted
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
        if resp.status_code == 413:
            raise DokployRequestTooLargeError(
                f"Dokploy {procedure}: 413 - the request body is over Dokploy's {BODY_LIMIT_TEXT} limit (v0.30.3 and "
                "later); make the compose file or env smaller",
                procedure=procedure,
                status=413,
            )
        if message.startswith("Failed query") and resp.status_code in (400, 500):
            raise reference_error(procedure, resp.status_code, sent)
        if resp.status_code == 401 and code is None and self._key_id in _KEYS_THAT_WORKED:
            raise exhausted_key_error(procedure)
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


# --- sharp edges (issue 15); each its own function, so error wording elsewhere can change independently ---------

# `pages/api/[...trpc].ts` exports no body-parser config, so Next.js's default applies: `bytes.parse("1mb")`,
# 1,048,576 bytes of encoded body; above it Next answers 413 "Body exceeded 1mb limit" (field reports: since
# v0.30.3). Checked before sending, so a too-large compose file never reaches the server.
BODY_LIMIT = 1024 * 1024
BODY_LIMIT_TEXT = "1 MB"
# Fields this client must never send, and why.
NEVER_SENT = {"freshVolumes": "it wipes the compose's volumes before deploying (Dokploy v0.30.5)"}
_REFERENCE_SUFFIX = "Id"


def encoded_size(body: Mapping[str, Any]) -> int:
    """The size of `body` as httpx encodes it (compact JSON, UTF-8)."""
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode())


def check_body(procedure: str, body: Mapping[str, Any]) -> None:
    """Refuse, before sending, a body over the limit (naming its biggest field) or one with a forbidden field."""
    for name, why in NEVER_SENT.items():
        if name in body:
            raise DokployConfigError(f"Dokploy {procedure}: refusing to send `{name}`: {why}", procedure=procedure)
    size = encoded_size(body)
    if size <= BODY_LIMIT:
        return
    biggest = max(body, key=lambda k: encoded_size({k: body[k]}))
    raise DokployRequestTooLargeError(
        f"Dokploy {procedure}: the request would be {size:,} bytes, over Dokploy's {BODY_LIMIT_TEXT} body limit "
        f"({BODY_LIMIT:,} bytes; 413 since v0.30.3); its biggest field is `{biggest}` "
        f"({encoded_size({biggest: body[biggest]}):,} bytes): make it smaller (e.g. move data out of the compose "
        "file or env into a volume or Vault)",
        procedure=procedure,
        status=413,
    )


def reference_error(procedure: str, status: int, sent: Any) -> DokployReferenceError:
    """A drizzle `Failed query`: Postgres refused the write, in practice a reference (an `...Id` field) that points
    to nothing. Deterministic, so never retried. The server's text carries the SQL parameters (env values, ...),
    so it is not repeated; the reference fields that were sent are named instead."""
    subject = procedure.split(".", 1)[0] + _REFERENCE_SUFFIX  # compose.update -> composeId: the object itself
    refs = sorted(
        k for k, v in (sent or {}).items() if k.endswith(_REFERENCE_SUFFIX) and k != subject and v not in (None, "")
    )
    named = ", ".join(f"{k}={sent[k]!r}" for k in refs) if refs else "one of the ids sent"
    field = "field" if len(refs) == 1 else "fields"
    return DokployReferenceError(
        f"Dokploy {procedure}: HTTP {status} Failed query - the database refused the write: {named} does not exist "
        f"on this server (check the {field} in the stack config; not retried, the same request fails the same way)",
        procedure=procedure,
        status=status,
        fields=tuple(refs),
    )


def exhausted_key_error(procedure: str) -> DokployKeyExhaustedError:
    return DokployKeyExhaustedError(
        f"Dokploy {procedure}: 401 Unauthorized for an API key that worked earlier in this run - most likely its rate "
        "limit: a key created through the API without options (`user.createApiKey`) allows 10 requests per 24 "
        "hours, then answers a bare 401. Create a key without a limit (Dokploy UI: Settings > Profile > API/CLI > "
        "Generate, or `user.createApiKey` with `rateLimitEnabled: false`), set it with `pulumi config set --secret "
        f"{CONFIG_KEY} ...`, and run `pulumi up` again",
        procedure=procedure,
        status=401,
    )
