"""Schemas for the local Dokploy server: the vendored request schemas and our per-procedure response schemas.

`check_response(procedure, status, body)` is what tests call on every answer from the local server (and can call
on a real Dokploy's answers): 200 bodies against the procedure's success schema, 401 `{"message":"Unauthorized"}`
from the authentication wrapper, every other status against the tRPC error shape for that procedure.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from dokploy_local.schemas.responses import HEALTH, SUCCESS, UNAUTHORIZED, trpc_error

__all__ = ["HEALTH", "SUCCESS", "UNAUTHORIZED", "ResponseSchemaError", "check_response", "response_schema"]


class ResponseSchemaError(AssertionError):
    pass


def response_schema(procedure: str | None, status: int, body: Any = None) -> dict[str, Any]:
    if procedure == "health":
        return HEALTH
    if status == 200:
        if procedure is None:
            raise ValueError("a 200 answer needs a procedure")
        return SUCCESS[procedure]
    if status == 401 and isinstance(body, dict) and "code" not in body:
        return UNAUTHORIZED
    return trpc_error(procedure, status)


def check_response(procedure: str | None, status: int, body: Any) -> None:
    """Raise `ResponseSchemaError` listing every mismatch between `body` and the schema for this answer."""
    validator = Draft202012Validator(response_schema(procedure, status, body))
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        details = "\n".join(f"  at {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10])
        raise ResponseSchemaError(f"{procedure} answered {status} with a body off its schema:\n{details}")
