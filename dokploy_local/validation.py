"""Input validation with zod's semantics, driven by the request schemas of Dokploy's OpenAPI document.

The OpenAPI request schemas are generated from the live zod schemas, so they say which keys, types, enums and
bounds Dokploy accepts (`requests.json` is the vendored copy). What they cannot say is how the server treats
input, so this module reproduces it:

- `@dokploy/trpc-openapi` turns on zod coercion for every number and boolean in the input, in bodies too:
  numbers go through JS `Number()` (`"8080"` -> 8080, `"abc"` -> NaN -> rejected), booleans through JS truthiness
  (`"false"` -> true, a missing required boolean -> false, which is why `compose.delete` accepts a request
  without `deleteVolumes`).
- Unknown keys are dropped; a JSON body that is not an object behaves like `{}` (JS object spread).
- Issues and messages are zod v4's (`Invalid input: expected string, received undefined`, ...), in schema order.
- Refinements the document cannot express are added per procedure (`FIELD_CHECKS`): the domain host check (no leading or
  trailing spaces, RFC 1123, `dokploy-api.md` §3.5; schema-set messages in `FIELD_MESSAGES`) and the registry `username`
  trim and `registryUrl` host[:port] check (v0.29.3). The registryUrl message is ours: the real text was not available.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dokploy_local.errors import InputValidationError

REQUEST_SCHEMAS: dict[str, dict[str, Any] | None] = json.loads(
    (Path(__file__).resolve().parent / "schemas" / "requests.json").read_text()
)

APP_NAME_PATTERN = "^[a-zA-Z0-9._-]+$"
APP_NAME_MESSAGE = "App name can only contain letters, numbers, dots, underscores and hyphens"
HOSTNAME_REGEX = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
INVALID_HOSTNAME_MESSAGE = (
    "Invalid domain name. Use only letters, numbers, hyphens and dots (e.g. example.com). Underscores are not allowed."
)
SPACES_IN_HOST_MESSAGE = "Domain name cannot have leading or trailing spaces"
# zod messages the schema sets itself (`db/validations/domain.ts`), by (field, issue code).
DOMAIN_MESSAGES = {("port", "too_big"): "Port must be 65535 or below", ("port", "too_small"): "Port must be at least 1"}
REGISTRY_URL_REGEX = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?)?$")
INVALID_REGISTRY_URL_MESSAGE = "Registry URL must be a host with an optional port, without scheme or path"


class _Undefined:
    """JS `undefined`: a key that is absent, as opposed to JSON null."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()
FieldCheck = Callable[[Any], tuple[Any, "str | None"]]
_JS_NUMBER = re.compile(r"^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")
_JS_RADIX = re.compile(r"^0([xXoObB])([0-9a-fA-F]+)$")
_JS_WHITESPACE = " \t\n\r\v\f\u00a0\u2028\u2029\ufeff"


def js_number(value: Any) -> float | int:
    """JS `Number(value)` for JSON values."""
    if value is UNDEFINED:
        return math.nan
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, list):
        if not value:
            return 0
        return js_number(_js_string(value[0])) if len(value) == 1 else math.nan
    if isinstance(value, str):
        text = value.strip(_JS_WHITESPACE)
        if not text:
            return 0
        if _JS_NUMBER.match(text):
            return float(text.replace("Infinity", "inf"))
        radix = _JS_RADIX.match(text)
        if radix:
            base = {"x": 16, "o": 8, "b": 2}[radix.group(1).lower()]
            try:
                return int(radix.group(2), base)
            except ValueError:
                return math.nan
        return math.nan
    return math.nan


def _js_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_js_string(v) for v in value)
    return str(value)


def js_truthy(value: Any) -> bool:
    """JS `Boolean(value)`."""
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def parsed_type(value: Any) -> str:
    """The `received ...` word of zod v4 messages."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "NaN" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _js_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _clean_number(value: float | int) -> float | int:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


class _Parser:
    def __init__(
        self, field_checks: dict[str, FieldCheck] | None = None, messages: dict[tuple[str, str], str] | None = None
    ) -> None:
        self.issues: list[dict[str, Any]] = []
        self.field_checks = field_checks or {}
        self.messages = messages or {}

    def issue(self, path: list[str | int], **fields: Any) -> None:
        custom = self.messages.get((str(path[0]), fields.get("code", ""))) if len(path) == 1 else None
        if custom:
            fields["message"] = custom
        self.issues.append({**fields, "path": list(path)})

    def invalid_type(self, expected: str, value: Any, path: list[str | int], **extra: Any) -> None:
        message = f"Invalid input: expected {expected}, received {parsed_type(value)}"
        self.issue(path, expected=expected, code="invalid_type", **extra, message=message)

    def parse(self, schema: dict[str, Any], value: Any, path: list[str | int]) -> Any:
        if "anyOf" in schema:
            return self._any_of(schema["anyOf"], value, path)
        if "enum" in schema:
            return self._enum(schema["enum"], value, path)
        kind = schema.get("type")
        if kind == "string":
            return self._string(schema, value, path)
        if kind == "number":
            return self._number(schema, value, path)
        if kind == "boolean":
            return js_truthy(value)
        if kind == "array":
            return self._array(schema, value, path)
        if kind == "object":
            return self.object(schema, value, path)
        if kind == "null":
            if value is not None:
                self.invalid_type("null", value, path)
            return None
        return value

    def _any_of(self, members: list[dict[str, Any]], value: Any, path: list[str | int]) -> Any:
        non_null = [m for m in members if m.get("type") != "null"]
        if len(non_null) < len(members) and value is None:
            return None
        if len(non_null) == 1:
            return self.parse(non_null[0], value, path)
        for member in non_null:
            attempt = _Parser()
            parsed = attempt.parse(member, value, path)
            if not attempt.issues:
                return parsed
        self.issue(path, code="invalid_union", errors=[], message="Invalid input")
        return value

    def _enum(self, values: list[Any], value: Any, path: list[str | int]) -> Any:
        if value in values and not isinstance(value, bool):
            return value
        if len(values) == 1:
            message = f"Invalid input: expected {json.dumps(values[0])}"
        else:
            message = "Invalid option: expected one of " + "|".join(json.dumps(v) for v in values)
        self.issue(path, code="invalid_value", values=list(values), message=message)
        return value

    def _string(self, schema: dict[str, Any], value: Any, path: list[str | int]) -> Any:
        if not isinstance(value, str):
            self.invalid_type("string", value, path)
            return value
        length = _js_length(value)
        if "minLength" in schema and length < schema["minLength"]:
            minimum = schema["minLength"]
            message = f"Too small: expected string to have >={minimum} characters"
            self.issue(path, origin="string", code="too_small", minimum=minimum, inclusive=True, message=message)
        if "maxLength" in schema and length > schema["maxLength"]:
            maximum = schema["maxLength"]
            message = f"Too big: expected string to have <={maximum} characters"
            self.issue(path, origin="string", code="too_big", maximum=maximum, inclusive=True, message=message)
        if "pattern" in schema and not re.search(schema["pattern"], value):
            pattern = schema["pattern"]
            message = (
                APP_NAME_MESSAGE if pattern == APP_NAME_PATTERN else f"Invalid string: must match pattern /{pattern}/"
            )
            self.issue(
                path, origin="string", code="invalid_format", format="regex", pattern=f"/{pattern}/", message=message
            )
        return value

    def _number(self, schema: dict[str, Any], value: Any, path: list[str | int]) -> Any:
        number = js_number(value)
        if isinstance(number, float) and not math.isfinite(number):
            received = "NaN" if math.isnan(number) else "Infinity"
            message = f"Invalid input: expected number, received {received}"
            self.issue(path, expected="number", code="invalid_type", received=received, message=message)
            return number
        if "minimum" in schema and number < schema["minimum"]:
            minimum = schema["minimum"]
            message = f"Too small: expected number to be >={minimum}"
            self.issue(path, origin="number", code="too_small", minimum=minimum, inclusive=True, message=message)
        if "maximum" in schema and number > schema["maximum"]:
            maximum = schema["maximum"]
            message = f"Too big: expected number to be <={maximum}"
            self.issue(path, origin="number", code="too_big", maximum=maximum, inclusive=True, message=message)
        return _clean_number(number)

    def _array(self, schema: dict[str, Any], value: Any, path: list[str | int]) -> Any:
        if not isinstance(value, list):
            self.invalid_type("array", value, path)
            return value
        items = schema.get("items", {})
        return [self.parse(items, item, [*path, index]) for index, item in enumerate(value)]

    def object(self, schema: dict[str, Any], value: Any, path: list[str | int]) -> Any:
        if not isinstance(value, dict):
            self.invalid_type("object", value, path)
            return value
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for key, prop in schema.get("properties", {}).items():
            if key not in value and key not in required:
                continue
            before = len(self.issues)
            parsed = self.parse(prop, value.get(key, UNDEFINED), [*path, key])
            if parsed is UNDEFINED:
                continue
            check = self.field_checks.get(key) if not path else None
            if check and len(self.issues) == before:
                parsed, message = check(parsed)
                if message:
                    self.issue([key], code="custom", message=message)
            out[key] = parsed
        return out


def _trimmed(value: Any) -> tuple[Any, str | None]:
    return (value.strip(_JS_WHITESPACE) if isinstance(value, str) else value), None


def _hostname(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and value != value.strip(_JS_WHITESPACE):
        return value, SPACES_IN_HOST_MESSAGE  # refused, not trimmed (the refine runs before the transform)
    if isinstance(value, str) and not HOSTNAME_REGEX.match(value):
        return value, INVALID_HOSTNAME_MESSAGE
    return value, None


def _registry_url(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and not REGISTRY_URL_REGEX.match(value):
        return value, INVALID_REGISTRY_URL_MESSAGE
    return value, None


# Field-level transforms and refinements the OpenAPI document does not carry; they run on a field that passed
# its own type and bound checks, as zod's do.
_REGISTRY_CHECKS: dict[str, FieldCheck] = {"username": _trimmed, "registryUrl": _registry_url}
FIELD_CHECKS: dict[str, dict[str, FieldCheck]] = {
    "domain.create": {"host": _hostname},
    "domain.update": {"host": _hostname},
    "registry.create": _REGISTRY_CHECKS,
    "registry.update": _REGISTRY_CHECKS,
    "registry.testRegistry": _REGISTRY_CHECKS,
}

FIELD_MESSAGES: dict[str, dict[tuple[str, str], str]] = {
    "domain.create": DOMAIN_MESSAGES,
    "domain.update": DOMAIN_MESSAGES,
}


def parse_input(procedure: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The input a procedure sees, or `InputValidationError` with zod's issues."""
    schema = REQUEST_SCHEMAS.get(procedure)
    if schema is None:
        return {}
    parser = _Parser(FIELD_CHECKS.get(procedure), FIELD_MESSAGES.get(procedure))
    data = parser.object(schema, raw, [])
    if parser.issues:
        raise InputValidationError(parser.issues)
    return data
