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


_QUOTES = "'\"`"
_LINE_BREAKS = "\n\r\u2028\u2029"


def _candidates(value: str) -> list[str]:
    """Encodings from the most readable to the least, each confined to its own line(s) whatever follows.

    Checking one line in isolation is not enough: a value that starts with a quote, or a quoted value whose
    closing quote is escaped by a trailing backslash, lets dotenv's regex run on to a quote further down.
    """
    out = []
    if (
        value
        and value[0] not in _QUOTES
        and value[0] not in _JS_WS_CHARS
        and value[-1] not in _JS_WS_CHARS
        and "#" not in value
        and not any(c in _LINE_BREAKS for c in value)
    ):
        out.append(value)
    if value.endswith("\\"):
        return out  # a quoted form would end in \' (or \` \"), which dotenv reads as an escaped quote
    for quote in "'`":  # literal: no escapes at all; \r would become \n when dotenv normalises line ends
        if quote not in value and "\r" not in value:
            out.append(f"{quote}{value}{quote}")
    if '"' not in value:  # dotenv expands \n and \r only in double quotes
        out.append('"' + value.replace("\n", "\\n").replace("\r", "\\r") + '"')
    return out


def encode_value(key: str, value: str) -> str:
    for candidate in _candidates(value):
        if parse(f"{key}={candidate}\n") == {key: value}:
            return candidate
    raise EnvFormatError(
        f"env {key}: this value cannot be written in Dokploy's env format (dotenv) so that it reads back "
        "unchanged (it holds ', \" and ` quotes together with a line break, '#' or surrounding spaces, or ends "
        "in a backslash after a line break); encode it (for example base64) or split it"
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
    text = "\n".join(lines)
    if parse(text) != dict(env):  # each line is confined by construction; this guards the construction
        raise EnvFormatError("env: the rendered text does not read back as the mapping; please report this")
    return text
