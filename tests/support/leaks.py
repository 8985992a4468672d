"""Secret-leak checks for state files, CLI output and logs.

`assert_no_leak(haystack, secrets)` looks for each secret raw, base64-encoded (standard and URL-safe,
at each of the three byte alignments it can have inside a longer encoded blob), URL-encoded
(quote and quote_plus) and JSON-escaped (once and twice: a JSON document inside a JSON string).
A failure names the secret by a short digest and the encoding and offset, never by its value, so a
failing test does not leak what it caught. `digest(value)` is the same digest, for assertions that
compare secrets (`assert digest(a) == digest(b)` prints digests, not values), and `Secret(value)` a str
that shows only its digest in tracebacks and assertion messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

# Below this many characters an encoded form could match by chance; such values are checked raw only.
MIN_ENCODED_LEN = 8


def digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


class Secret(str):
    """A str whose repr is its digest: pytest's assertion explanations and tracebacks use repr, so a
    failing `assert reads(token, path)` or `assert len(password) >= 24` shows no value. (Compare secrets
    with `digest(a) == digest(b)`: pytest diffs two plain strings by content.)"""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<secret {digest(self)}>"


def hide(values: dict[str, str]) -> dict[str, str]:
    return {k: Secret(v) for k, v in values.items()}


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 characters determined by `raw` alone, for each alignment inside a larger blob."""
    cores = set()
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + raw).decode()
        start = (0, 2, 3)[pad]  # leading chars that mix in the bytes before the secret
        full = ((pad + len(raw)) // 3) * 4  # drop the last group: it mixes in the bytes after it
        core = enc[start:full]
        if len(core) >= MIN_ENCODED_LEN:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def encodings(secret: str) -> dict[str, set[str]]:
    forms: dict[str, set[str]] = {"raw": {secret}}
    if len(secret) >= MIN_ENCODED_LEN:
        forms["base64"] = _base64_cores(secret.encode())
        forms["url-encoded"] = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
        once = json.dumps(secret)[1:-1]
        forms["json-escaped"] = {once, json.dumps(once)[1:-1]}
    return forms


def find_leaks(haystack: str, secrets: Iterable[str]) -> list[str]:
    """One description per leak: '<digest> <encoding> at offset N' (no values)."""
    found = []
    for secret in {s for s in secrets if s}:
        for name, forms in encodings(secret).items():
            for form in forms:
                at = haystack.find(form)
                if at >= 0:
                    found.append(f"secret {digest(secret)} found {name} at offset {at}")
                    break
    return sorted(found)


def assert_no_leak(haystack: str, secrets: Iterable[str], where: str = "output") -> None:
    __tracebackhide__ = True  # pytest would print this frame's arguments: the secrets themselves
    secrets = list(secrets)
    assert secrets, "assert_no_leak needs at least one secret to look for"
    leaks = find_leaks(haystack, secrets)
    assert not leaks, f"{len(leaks)} secret leak(s) in {where}: " + "; ".join(leaks)


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in a state export
MIN_SECRET_LEN = 12  # shorter secret values (a port, a flag) are not credentials


def secrets_in_export(export: object) -> set[str]:
    """The secret strings of a decrypted state export (`pulumi stack export --show-secrets`): minted tokens,
    passwords, derived URLs. Secret objects are skipped: their leaves mix credentials with names and hosts,
    and the credentials in them are found through their own sources (Vault, the keys)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get(SECRET_SIG) and "plaintext" in node:
                try:
                    plain = json.loads(str(node["plaintext"]))
                except ValueError:
                    plain = node["plaintext"]
                if isinstance(plain, str) and len(plain) >= MIN_SECRET_LEN:
                    found.add(plain)
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(export)
    return found
