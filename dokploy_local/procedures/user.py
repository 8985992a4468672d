"""`user.createApiKey` / `user.deleteApiKey`: owner API keys as better-auth's api-key plugin makes them.

`createApiKey` answers the new key's record with the key itself in `key` — the only time it is shown; the server
keeps its SHA-256, never the key, and the request log records only the input (which holds no key). A deleted key
fails verification, so the request gets the same 401 as a wrong key (`validateRequest`, v0.30.2).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from dokploy_local.context import Context
from dokploy_local.errors import TrpcError
from dokploy_local.ids import nanoid, now_iso
from dokploy_local.procedures.table import procedure

OWNER_USER_ID = "local-owner"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@procedure("user.createApiKey", admin=True)
def create_api_key(ctx: Context, data: dict[str, Any]) -> Any:
    prefix = data.get("prefix") or ""
    key = prefix + secrets.token_urlsafe(48)
    stamp = now_iso()
    row: dict[str, Any] = {
        "id": nanoid(32),
        "name": data["name"],
        "start": key[:6],
        "prefix": prefix or None,
        "userId": OWNER_USER_ID,
        "enabled": True,
        "expiresAt": None,
        "createdAt": stamp,
        "updatedAt": stamp,
        "metadata": data["metadata"],
        "rateLimitEnabled": bool(data.get("rateLimitEnabled", False)),
    }
    ctx.store.add_api_key(key_hash(key), row)
    return {**row, "key": key}


@procedure("user.deleteApiKey", admin=True)
def delete_api_key(ctx: Context, data: dict[str, Any]) -> Any:
    if ctx.store.api_key(data["apiKeyId"]) is None:
        raise TrpcError("NOT_FOUND", "API key not found")
    ctx.store.delete_api_key(data["apiKeyId"])
    return True
