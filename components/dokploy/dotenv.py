"""Dokploy's env format: dotenv text, as parsed by npm `dotenv` 16.4.5 (the version Dokploy pins).

`render` turns a mapping into text that `dotenv.parse` reads back as exactly that mapping, deterministically
(sorted keys, the simplest quoting that survives). `parse` is a faithful port of dotenv's parser, so `read`
can turn the text Dokploy returns back into a mapping and compare it field by field. Both are checked
against Node's own parser in tests/dokploy/test_dotenv.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# JavaScript's \s and String.prototype.trim() whitespace (no `u` flag), and its line terminators, which
# the `m` flag's ^ and $ honour. Python's \s and str.strip() differ from both, so they are spelled out.
_JS_WS = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_WS_CHARS = (
    "".join(chr(c) for c in range(0x2000, 0x200B)) + "\t\n\x0b\x0c\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_LT = "\n\r\u2028\u2029"
_S = f"[{_JS_WS}]"
_BOL = f"(?:(?<=[{_LT}])|\\A)"
_EOL = f"(?=[{_LT}]|\\Z)"

# dotenv's LINE regex, clause for clause.
_LINE = re.compile(
    _BOL
    + _S
    + "*(?:export"
    + _S
    + "+)?([A-Za-z0-9_.-]+)(?:"
    + _S
    + "*="
    + _S
    + "*?|:"
    + _S
    + "+?)("
    + _S
    + "*'(?:\\\\'|[^'])*'|"
    + _S
    + '*"(?:\\\\"|[^"])*"|'
    + _S
    + "*`(?:\\\\`|[^`])*`|[^#\r\n]+)?"
    + _S
    + f"*(?:#[^{_LT}]*)?"
    + _EOL
)
_SURROUNDING_QUOTES = re.compile(_BOL + "(['\"`])([\\s\\S]*)\\1" + _EOL)

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EnvFormatError(ValueError):
    """A key or value Dokploy's env format cannot carry. The message names the key, never the value."""


def parse(src: str) -> dict[str, str]:
    """dotenv.parse(src): later keys win, comments and quotes handled as dotenv does."""
    lines = re.sub(r"\r\n?", "\n", src)
    out: dict[str, str] = {}
    for m in _LINE.finditer(lines):
        value = (m.group(2) or "").strip(_JS_WS_CHARS)
        quote = value[:1]
        value = _SURROUNDING_QUOTES.sub(r"\2", value)
        if quote == '"':
            value = value.replace("\\n", "\n").replace("\\r", "\r")
        out[m.group(1)] = value
    return out


def _candidates(value: str) -> list[str]:
    """Encodings from the most readable to the least; the first that parses back exactly is used."""
    if value == "":
        return ["''"]
    return [value, f"'{value}'", f"`{value}`", '"' + value.replace("\n", "\\n").replace("\r", "\\r") + '"']


def encode_value(key: str, value: str) -> str:
    for candidate in _candidates(value):
        if parse(f"{key}={candidate}\n") == {key: value}:
            return candidate
    raise EnvFormatError(
        f"env {key}: this value cannot be written in Dokploy's env format (dotenv) so that it reads back "
        "unchanged (it mixes ', \" and ` quotes with a line break, '#', a literal backslash-n or surrounding "
        "spaces); encode it (for example base64) or split it"
    )


def check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise EnvFormatError(
            f"env key {key!r} is not a variable name: use letters, digits and '_', not starting with a digit"
        )
    if key == "__proto__":
        # dotenv builds a plain JS object: assigning "__proto__" is silently dropped.
        raise EnvFormatError("env key '__proto__' is dropped by Dokploy's parser; rename it")


def render(env: Mapping[str, str]) -> str:
    """Deterministic dotenv text for `env`: one KEY=value line per key, keys sorted, no trailing newline."""
    lines = []
    for key in sorted(env):
        check_key(key)
        value = env[key]
        if not isinstance(value, str):
            raise EnvFormatError(f"env {key}: values must be strings, got {type(value).__name__}")
        lines.append(f"{key}={encode_value(key, value)}")
    return "\n".join(lines)
