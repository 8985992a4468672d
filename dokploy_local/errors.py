"""Errors as Dokploy v0.30 serialises them (tRPC v11 error shape through `@dokploy/trpc-openapi`).

Body: `{"message", "code", "data": {"code", "httpStatus", "path"?, "zodError"}, "issues"?}`. `path` is the
procedure and is absent when no procedure matched; `issues` and a non-null `zodError` only come with input
validation errors. The pre-routing authentication failure is different: just `{"message":"Unauthorized"}`.
"""

from __future__ import annotations

from typing import Any

HTTP_STATUS = {
    "PARSE_ERROR": 400,
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "INTERNAL_SERVER_ERROR": 500,
}

UNAUTHORIZED_BODY = {"message": "Unauthorized"}


class TrpcError(Exception):
    """A procedure failure; `message` is what the client sees."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]


class InputValidationError(TrpcError):
    """zod rejected the input: 400 "Input validation failed" with the zod issues."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__("BAD_REQUEST", "Input validation failed")
        self.issues = issues


def not_found(message: str) -> TrpcError:
    return TrpcError("NOT_FOUND", message)


def bad_request(message: str) -> TrpcError:
    return TrpcError("BAD_REQUEST", message)


def unauthorized(message: str) -> TrpcError:
    return TrpcError("UNAUTHORIZED", message)


def flatten(issues: list[dict[str, Any]]) -> dict[str, Any]:
    """zod's `error.flatten()`: messages grouped by the first path element."""
    form_errors: list[str] = []
    field_errors: dict[str, list[str]] = {}
    for issue in issues:
        if issue["path"]:
            field_errors.setdefault(str(issue["path"][0]), []).append(issue["message"])
        else:
            form_errors.append(issue["message"])
    return {"formErrors": form_errors, "fieldErrors": field_errors}


def error_body(error: TrpcError, procedure: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"code": error.code, "httpStatus": error.status}
    if procedure is not None:
        data["path"] = procedure
    issues = error.issues if isinstance(error, InputValidationError) else None
    data["zodError"] = flatten(issues) if issues is not None else None
    body: dict[str, Any] = {"message": error.message, "code": error.code, "data": data}
    if issues is not None:
        body["issues"] = issues
    return body
