"""Copy the request schemas of the procedures we emulate out of Dokploy's OpenAPI document.

The whole document is vendored in `vendor/dokploy/openapi.json` (its source and version in the README beside
it); the server reads only this extract, `requests.json`. Regenerate it with
`python -m dokploy_local.schemas.openapi_extract [OPENAPI]` (scripts/refresh-dokploy-openapi.sh does); a test
holds the extract equal to the vendored document.

GET procedures take one query parameter per field; they are folded into one object schema so that both kinds
of procedure validate the same way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dokploy_local.procedures.catalog import EMULATED_PROCEDURES

HERE = Path(__file__).resolve().parent
VENDORED = HERE / "requests.json"
DEFAULT_OPENAPI = HERE.parents[1] / "vendor" / "dokploy" / "openapi.json"


def extract(openapi: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """`{procedure: object schema or None}` for every emulated procedure (None: the procedure takes no input)."""
    out: dict[str, dict[str, Any] | None] = {}
    for name in EMULATED_PROCEDURES:
        ops = openapi["paths"][f"/{name}"]
        (method, op), *_ = ops.items()
        if method == "post":
            out[name] = op["requestBody"]["content"]["application/json"]["schema"]
            continue
        params = op.get("parameters") or []
        if not params:
            out[name] = None
            continue
        out[name] = {
            "type": "object",
            "properties": {p["name"]: p["schema"] for p in params},
            "required": [p["name"] for p in params if p.get("required")],
        }
    return out


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_OPENAPI
    schemas = extract(json.loads(source.read_text()))
    VENDORED.write_text(json.dumps(schemas, indent=1) + "\n")
    print(f"wrote {len(schemas)} request schemas to {VENDORED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
