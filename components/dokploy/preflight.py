"""One check before any change: the URL answers, the version is supported and the key works.

`preflight()` returns None when all is well and otherwise one line saying what is wrong and what to do;
the stacks call it before registering anything so a bad key or an old server fails fast and clearly.
"""

from __future__ import annotations

from components.dokploy.client import DokployClient, resolve_settings
from components.dokploy.errors import DokployError


def preflight(url: str | None = None, api_key: str | None = None, *, timeout_attempts: int = 3) -> str | None:
    """None if `url`/`api_key` (or DOKPLOY_URL/DOKPLOY_API_KEY) reach a supported Dokploy with a working key."""
    config = {k: v for k, v in {"dokploy:url": url, "dokploy:apiKey": api_key}.items() if v}
    try:
        settings = resolve_settings(config)
        with DokployClient(settings, attempts=timeout_attempts) as c:
            # Proves the key too: every /api route but /api/health needs it. (A constant-size read: project.all
            # grows with every object on the server, see bench/RESULTS.md.)
            c.server_version()
    except DokployError as exc:
        return " ".join(str(exc).split())
    return None
