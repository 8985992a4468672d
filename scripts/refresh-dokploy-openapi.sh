#!/usr/bin/env bash
# Refresh vendor/dokploy/openapi.json from a file or URL, and what is derived from it (see vendor/dokploy/README.md).
# Usage: scripts/refresh-dokploy-openapi.sh <path-or-URL> <dokploy-version>   (DOKPLOY_API_KEY for a server's URL)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
if [ $# -ne 2 ]; then
  echo "usage: $0 <path-or-URL of Dokploy's openapi.json> <dokploy version, e.g. v0.30.2>" >&2
  exit 2
fi
source=$1 version=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
case "$source" in
  http://* | https://*)
    header=()
    if [ -n "${DOKPLOY_API_KEY:-}" ]; then header=(-H "x-api-key: $DOKPLOY_API_KEY"); fi
    curl -fsS --max-time 60 "${header[@]}" -o "$tmp" "$source" ;;
  *)
    [ -f "$source" ] || { echo "refresh-dokploy-openapi: no such file: $source" >&2; exit 1; }
    cp "$source" "$tmp" ;;
esac
cd "$root"
"$py" - "$tmp" <<'PY'
import json, sys
from dokploy_local.procedures.catalog import EMULATED_PROCEDURES
from tests.dokploy.openapi_check import procedures_in_code
try:
    doc = json.loads(open(sys.argv[1]).read())
except ValueError as exc:
    sys.exit(f"refresh-dokploy-openapi: not JSON: {exc}")
if not str(doc.get("openapi", "")).startswith("3.") or not isinstance(doc.get("paths"), dict):
    sys.exit("refresh-dokploy-openapi: not an OpenAPI 3.x document with paths")
missing = sorted(p for p in set(EMULATED_PROCEDURES) | procedures_in_code() if f"/{p}" not in doc["paths"])
if missing:
    sys.exit(f"refresh-dokploy-openapi: the document lacks procedures this project uses: {', '.join(missing)}")
PY
cp "$tmp" vendor/dokploy/openapi.json
"$py" -m dokploy_local.schemas.openapi_extract vendor/dokploy/openapi.json
sum=$(sha256sum vendor/dokploy/openapi.json | cut -d' ' -f1)
sed -i \
  -e "s|^- dokploy version: .*|- dokploy version: $version|" \
  -e "s|^- source: .*|- source: $source|" \
  -e "s|^- sha256: .*|- sha256: $sum|" \
  -e "s|^- refreshed: .*|- refreshed: $(date -u +%F)|" \
  vendor/dokploy/README.md
echo "refresh-dokploy-openapi: vendor/dokploy/openapi.json = $source ($version), sha256 $sum"
