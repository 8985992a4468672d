"""Typed errors for the Dokploy client and provider.

Every message is one line a person can act on, and never carries the API key or a secret value: the
client scrubs messages through `Redactor` before raising.
"""

from __future__ import annotations


class DokployError(Exception):
    """Base class. `procedure` is the Dokploy procedure (e.g. `compose.create`) when there is one."""

    def __init__(self, message: str, *, procedure: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.procedure = procedure
        self.status = status


class DokployConfigError(DokployError):
    """The URL or API key is missing or malformed."""


class UnsupportedVersionError(DokployError):
    """The server runs a Dokploy version this provider refuses (components/dokploy/versions.py)."""


class DokployHTTPError(DokployError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, procedure: str, status: int, code: str | None = None) -> None:
        super().__init__(message, procedure=procedure, status=status)
        self.code = code


class DokployAuthError(DokployHTTPError):
    """401: Dokploy cannot tell a wrong, an expired and a rate-limited key apart, so neither can we."""


class DokployKeyExhaustedError(DokployAuthError):
    """A bare 401 for a key that worked earlier in the same process: its rate limit (10 requests per 24 hours for a
    key made through the API without options), or a revocation. Never retried."""


class DokployReferenceError(DokployHTTPError):
    """Dokploy's `Failed query` (a 500, or a 400 where the router re-wraps it): a reference that points to nothing.
    Deterministic: never retried. `fields` are the reference fields the request carried."""

    def __init__(self, message: str, *, procedure: str, status: int, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message, procedure=procedure, status=status, code="FAILED_QUERY")
        self.fields = fields


class DokployRequestTooLargeError(DokployHTTPError):
    """The request body is over Dokploy's limit (1 MB; 413 since v0.30.3), found before sending or answered 413."""


class DokployForbiddenError(DokployHTTPError):
    """403: the key's user may not touch this object (a member key, or another organization)."""


class DokployNotFoundError(DokployHTTPError):
    """404: the object (or the procedure) does not exist."""


class DokployBadRequestError(DokployHTTPError):
    """400: validation failed or the server refused the change (Dokploy wraps many errors as 400)."""


class DokployConflictError(DokployHTTPError):
    """409."""


class DokployServerError(DokployHTTPError):
    """5xx or 429: the server failed or is overloaded."""


class DokployThrottledError(DokployServerError):
    """429 from a rate-limiting proxy: the request was refused before it ran, so any call may be repeated."""

    def __init__(self, message: str, *, procedure: str, retry_after: float) -> None:
        super().__init__(message, procedure=procedure, status=429, code="TOO_MANY_REQUESTS")
        self.retry_after = retry_after


class DokployTransportError(DokployError):
    """The request failed on the wire. `reached_server` is False only when it provably never left."""

    def __init__(self, message: str, *, procedure: str, reached_server: bool) -> None:
        super().__init__(message, procedure=procedure)
        self.reached_server = reached_server


class UncertainWriteError(DokployError):
    """A create or deploy may or may not have happened (answer lost, timeout, 5xx after sending).

    Never repeated blindly: the provider looks for the object by its marker first.
    """


class AmbiguousMarkerError(DokployError):
    """More than one object carries the marker of one Pulumi resource."""


class DeploymentFailedError(DokployError):
    """A deployment ended in `error` or `cancelled`."""

    def __init__(self, message: str, *, deployment_id: str, status: str, log_path: str | None) -> None:
        super().__init__(message, procedure="compose.deploy")
        self.deployment_id = deployment_id
        self.deployment_status = status
        self.log_path = log_path


class DeploymentTimeoutError(DeploymentFailedError):
    """The deadline passed before the deployment finished (or before it even started)."""
