"""Checks a request against Dokploy's OpenAPI request schemas (the vendored `dokploy_local/schemas/requests.json`,
extracted from the document; the repository stands alone).

The request schemas are generated from Dokploy's zod schemas and are reliable (dokploy-api.md §6);
the server is lenient (it coerces and drops unknown keys), so the tests hold the client to the document:
the path exists for that method, query parameters and JSON body validate, and nothing undeclared is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema


@cache
def spec() -> dict[str, Any]:
    """`{procedure: (kind, request object schema or None)}` from the repository's vendored copy of the document's
    request schemas (`dokploy_local/schemas/requests.json`; GET parameters folded into one object schema)."""
    from dokploy_local.procedures.catalog import EMULATED_PROCEDURES
    from dokploy_local.validation import REQUEST_SCHEMAS

    return {name: (kind, REQUEST_SCHEMAS.get(name)) for name, kind in EMULATED_PROCEDURES.items()}


@dataclass(frozen=True)
class SentRequest:
    method: str
    procedure: str  # e.g. compose.create
    query: tuple[tuple[str, str], ...]
    body: Any  # parsed JSON, or None
    content_type: str | None

    def describe(self) -> str:
        return f"{self.method} /api/{self.procedure}"


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    # Query strings are strings on the wire; trpc-openapi coerces them to the schema's primitive type.
    types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    if "number" in types or "integer" in types:
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    if "boolean" in types:
        return value == "true"
    return value


def problems(req: SentRequest) -> list[str]:
    entry = spec().get(req.procedure)
    if entry is None:
        return [f"{req.describe()}: not a procedure of the vendored request schemas"]
    kind, schema = entry
    method = "GET" if kind == "query" else "POST"
    if req.method != method:
        return [f"{req.describe()}: the document has {method} for this path"]
    properties = (schema or {}).get("properties", {})
    out: list[str] = []
    if req.method == "GET":
        seen = dict(req.query)
        if len(seen) != len(req.query):
            out.append(f"{req.describe()}: repeated query parameter")
        for name, value in seen.items():
            if name not in properties:
                out.append(f"{req.describe()}: undeclared query parameter {name!r}")
                continue
            for err in jsonschema.Draft202012Validator(properties[name]).iter_errors(_coerce(value, properties[name])):
                out.append(f"{req.describe()}: query {name}: {err.message}")
        for name in (schema or {}).get("required", []):
            if name not in seen:
                out.append(f"{req.describe()}: missing required query parameter {name!r}")
        if req.body is not None:
            out.append(f"{req.describe()}: a GET with a body")
        return out
    if req.content_type is None or not req.content_type.startswith("application/json"):
        out.append(f"{req.describe()}: content-type {req.content_type!r}, not application/json")
    if schema is None:
        out.append(f"{req.describe()}: the document declares no JSON body")
        return out
    for err in jsonschema.Draft202012Validator(schema).iter_errors(req.body):
        out.append(f"{req.describe()}: body {'/'.join(map(str, err.path)) or '(root)'}: {err.message}")
    if isinstance(req.body, dict):
        extra = sorted(set(req.body) - set(properties))
        if extra:
            out.append(f"{req.describe()}: body keys not in the schema: {extra}")
    return out


class RequestLog:
    """Every request the client sent during the suite, checked as it is added."""

    def __init__(self) -> None:
        self.requests: list[SentRequest] = []
        self.invalid: list[str] = []

    def add(self, req: SentRequest) -> None:
        self.requests.append(req)
        self.invalid.extend(problems(req))

    def procedures(self) -> set[str]:
        return {r.procedure for r in self.requests}
