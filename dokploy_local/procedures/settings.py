"""`settings.getDokployVersion`: the version this server presents (knob `dokploy_version`)."""

from __future__ import annotations

from typing import Any

from dokploy_local.context import Context
from dokploy_local.procedures.table import procedure


@procedure("settings.getDokployVersion")
def get_version(ctx: Context, data: dict[str, Any]) -> Any:
    return ctx.knobs.snapshot()["dokploy_version"]  # v0.30.2 unless the `dokploy_version` knob says otherwise
