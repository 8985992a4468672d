"""`settings.getDokployVersion`: the version this server stands for."""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.procedures.table import procedure

DOKPLOY_VERSION = "v0.30.2"


@procedure("settings.getDokployVersion")
def get_version(ctx: Context, data: dict[str, Any]) -> Any:
    return DOKPLOY_VERSION
