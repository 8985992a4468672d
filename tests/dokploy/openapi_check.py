"""Checks a request against Dokploy's OpenAPI document (vendored: vendor/dokploy/openapi.json).

The request schemas there are generated from Dokploy's zod schemas and are reliable (vendor/dokploy/README.md);
the server is lenient (it coerces and drops unknown keys), so the tests hold the client to the document:
the path exists for that method, query parameters and JSON body validate, and nothing undeclared is sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "vendor" / "dokploy" / "openapi.json"
CLIENT_CODE = REPO / "components" / "dokploy"


def procedures_in_code() -> set[str]:
    """Every Dokploy procedure the provider's code calls (the document must hold each)."""
    calls = re.compile(r'(?:query|mutate)\(\s*"([a-zA-Z]+\.[a-zA-Z]+)"')
    found = {m for path in CLIENT_CODE.glob("*.py") for m in calls.findall(path.read_text())}
    return found | {"settings.getDokployVersion"}  # the version probe goes through _send directly


@cache
def spec() -> dict[str, Any]:
    return dict(json.loads(SPEC_PATH.read_text()))


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
    item = spec()["paths"].get(f"/{req.procedure}")
    if item is None:
        return [f"{req.describe()}: no such path in the OpenAPI document"]
    op = item.get(req.method.lower())
    if op is None:
        return [f"{req.describe()}: the document has {'/'.join(m.upper() for m in item)} for this path"]
    out: list[str] = []
    params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
    seen = dict(req.query)
    if len(seen) != len(req.query):
        out.append(f"{req.describe()}: repeated query parameter")
    for name, value in seen.items():
        if name not in params:
            out.append(f"{req.describe()}: undeclared query parameter {name!r}")
            continue
        schema = params[name]["schema"]
        for err in jsonschema.Draft202012Validator(schema).iter_errors(_coerce(value, schema)):
            out.append(f"{req.describe()}: query {name}: {err.message}")
    for name, p in params.items():
        if p.get("required") and name not in seen:
            out.append(f"{req.describe()}: missing required query parameter {name!r}")
    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if req.method == "POST":
        if req.content_type is None or not req.content_type.startswith("application/json"):
            out.append(f"{req.describe()}: content-type {req.content_type!r}, not application/json")
        if body_schema is None:
            out.append(f"{req.describe()}: the document declares no JSON body")
        else:
            for err in jsonschema.Draft202012Validator(body_schema).iter_errors(req.body):
                out.append(f"{req.describe()}: body {'/'.join(map(str, err.path)) or '(root)'}: {err.message}")
            if isinstance(req.body, dict):
                extra = sorted(set(req.body) - set(body_schema.get("properties", {})))
                if extra:
                    out.append(f"{req.describe()}: body keys not in the schema: {extra}")
    elif req.body is not None:
        out.append(f"{req.describe()}: a GET with a body")
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
