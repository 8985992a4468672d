"""Identifiers and names shaped like Dokploy's.

- ids: nanoid, 21 characters of `A-Za-z0-9_-` (observed: `yC-7VY1E6IwBHfQN9Gb3K`).
- appName: a given name is trimmed, spaces become `-`, lower-cased, then `-` plus 6 random characters is always
  appended; without a name Dokploy uses `<type>-<verb>-<adjective>-<noun>-<6 random>` from faker words
  (`dokploy-api.md` §4.1). The word lists here are our own; only the shape matters.
- timestamps: ISO 8601 with milliseconds and `Z`, like `new Date().toISOString()`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

NANOID_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

_VERBS = ("parse", "index", "bypass", "compress", "connect", "generate", "hack", "navigate", "override", "program")
_ADJECTIVES = ("bluetooth", "digital", "neural", "optical", "primary", "redundant", "solid", "virtual", "wireless")
_NOUNS = ("alarm", "array", "bandwidth", "capacitor", "circuit", "driver", "feed", "matrix", "monitor", "protocol")


def nanoid(size: int = 21) -> str:
    return "".join(secrets.choice(NANOID_ALPHABET) for _ in range(size))


def random_suffix(size: int = 6) -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(size))


def build_app_name(kind: str, app_name: str | None) -> str:
    if app_name:
        cleaned = app_name.strip().replace(" ", "-").lower()
        return f"{cleaned}-{random_suffix()}"
    words = (secrets.choice(_VERBS), secrets.choice(_ADJECTIVES), secrets.choice(_NOUNS))
    return f"{kind}-{'-'.join(words)}-{random_suffix()}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_stamp() -> str:
    """The `yyyy-MM-dd:HH:mm:ss` stamp Dokploy puts in deployment log file names."""
    return datetime.now(UTC).strftime("%Y-%m-%d:%H:%M:%S")
