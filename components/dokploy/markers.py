"""Markers that tie a Dokploy object to the Pulumi resource that created it.

Dokploy names are not unique and creates are not idempotent, so after a crash or a lost answer the only
way to find "the object this resource made" is a marker written into the object itself:

- projects, environments, composes: a `[pulumi:<marker>]` tag at the end of the description;
- composes also: an appName prefix `<base>-<marker>` (Dokploy appends `-xxxxxx`; the appName can never
  be edited afterwards, so it survives a hand-edited description);
- domains have no free-text field, so their marker is their natural key inside the owning compose
  (host + path): the compose is itself marked, and two domains with the same host and path on one
  compose would be a routing conflict anyway;
- deployments: the deploy title `pulumi:<marker> run:<hash>`.

The marker is a hash of project, stack, resource kind and name: stable across runs, distinct per resource.
"""

from __future__ import annotations

import hashlib
import re

MARKER_LEN = 12
_TAG = re.compile(r"(?:^|\s)\[pulumi:([0-9a-f]{12})\]\s*$")


def marker_for(project: str, stack: str, kind: str, name: str) -> str:
    return hashlib.sha256(f"{project}/{stack}/{kind}/{name}".encode()).hexdigest()[:MARKER_LEN]


def tag_description(description: str | None, marker: str) -> str:
    text = (description or "").strip()
    return f"{text} [pulumi:{marker}]" if text else f"[pulumi:{marker}]"


def split_description(stored: str | None) -> tuple[str, str]:
    """(the description without its tag, the marker or "")."""
    text = stored or ""
    m = _TAG.search(text)
    if not m:
        return text, ""
    return text[: m.start()].strip(), m.group(1)


def slug(text: str) -> str:
    """What Dokploy keeps of an appName (lowercase, no spaces), restricted to what compose project names allow."""
    s = re.sub(r"[^a-z0-9_-]+", "-", text.strip().lower()).strip("-_")
    return s or "app"


def app_name_prefix(base: str, marker: str) -> str:
    # 63 is Dokploy's limit before it appends "-xxxxxx".
    return f"{slug(base)[: 63 - MARKER_LEN - 1]}-{marker}"


def has_app_name_prefix(app_name: str | None, prefix: str) -> bool:
    return bool(app_name) and (app_name == prefix or str(app_name).startswith(prefix + "-"))


def deploy_title(marker: str, run_hash: str) -> str:
    return f"pulumi:{marker} run:{run_hash[:16]}"
