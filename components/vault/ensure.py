"""Decide what to write into one KV secret so it holds every key of its spec. Pure: no Vault, no Pulumi.

The state keeps no value, only per-derived-key fingerprints: an HMAC (keyed by a random per-resource
salt) of the template and the source values it was rendered from. A derived key is rewritten when it
is missing or its fingerprint changed; a value someone set by hand survives until its sources change.
A derived key that already exists the first time we see it (adopting a live secret) is kept and its
fingerprint becomes the baseline, so taking over the real staging/production secrets rewrites nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from components.vault.errors import MissingProvidedKey, VaultNotFound
from components.vault.keys import KeyClass, ServiceSecrets

REF = re.compile(r"\$\{(?P<service>[a-z0-9_-]+)\.(?P<key>[A-Za-z0-9_]+)(?P<url>\|url)?\}")
_ALPHABET = string.ascii_letters + string.digits  # URL- and shell-safe; 32 chars of it is ~190 bits


def new_password(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_salt() -> str:
    return secrets.token_hex(16)


def references(template: str) -> list[tuple[str, str]]:
    return [(m["service"], m["key"]) for m in REF.finditer(template)]


# (service, key) -> value or None when missing
Lookup = Callable[[str, str], str | None]


def render(template: str, lookup: Lookup, *, where: str) -> tuple[str, list[str]]:
    """(rendered value, source values in reference order). A missing source names its service and key."""
    sources: list[str] = []

    def sub(m: re.Match[str]) -> str:
        value = lookup(m["service"], m["key"])
        if value is None or value == "":
            raise VaultNotFound(f"{where}: source key {m['key']} of service {m['service']} is missing")
        sources.append(value)
        return quote(value, safe="") if m["url"] else value

    return REF.sub(sub, template), sources


def fingerprint(salt: str, template: str, sources: list[str]) -> str:
    msg = "\0".join([template, *sources]).encode()
    return hmac.new(salt.encode(), msg, hashlib.sha256).hexdigest()


@dataclass
class Plan:
    """What to write. `writes` holds secret values: it is never printed (repr hides it)."""

    writes: dict[str, str] = field(default_factory=dict, repr=False)
    generated: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)

    def changes(self, old_fingerprints: Mapping[str, str]) -> bool:
        return bool(self.writes) or dict(self.fingerprints) != dict(old_fingerprints)


def plan(
    spec: ServiceSecrets,
    current: Mapping[str, str] | None,
    read_other: Callable[[str], Mapping[str, str] | None],
    old_fingerprints: Mapping[str, str],
    salt: str,
    *,
    where: str,
    password: Callable[[int], str] = new_password,
) -> Plan:
    """Plan one secret. `read_other(service)` returns another service's current data (same env prefix).

    Raises MissingProvidedKey (naming `where` and the key) before anything is generated, so a failed
    run writes nothing.
    """
    data = dict(current or {})
    missing = [n for n in spec.of(KeyClass.PROVIDED) if not data.get(n)]
    if missing:
        raise MissingProvidedKey(
            f"{where}: provided key {', '.join(missing)} is missing; set it by hand "
            f"(bao kv patch {where} {missing[0]}=...) - the program never invents it"
        )
    out = Plan()
    for key in spec.keys:
        if key.cls is KeyClass.GENERATED and not data.get(key.name):
            data[key.name] = out.writes[key.name] = password(key.length)
            out.generated.append(key.name)

    others: dict[str, Mapping[str, str] | None] = {}

    def lookup(service: str, name: str) -> str | None:
        if service == spec.service:
            return data.get(name)
        if service not in others:
            others[service] = read_other(service)
        other = others[service]
        return None if other is None else other.get(name)

    for key in spec.keys:
        if key.cls is not KeyClass.DERIVED:
            continue
        value, sources = render(key.template, lookup, where=where)
        fp = fingerprint(salt, key.template, sources)
        out.fingerprints[key.name] = fp
        old = old_fingerprints.get(key.name)
        exists = key.name in data
        source_changed = old is not None and old != fp  # no old fingerprint: adopt what is there
        if (not exists or source_changed) and data.get(key.name) != value:
            data[key.name] = out.writes[key.name] = value
            out.derived.append(key.name)
    return out
