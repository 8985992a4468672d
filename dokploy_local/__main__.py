"""`python -m dokploy_local --port N --data DIR --api-key KEY`: serve until SIGTERM/SIGINT.

Prints the base URL on stdout once it accepts connections (the API is at `<url>/api/...`); everything else
goes to stderr. `--port 0` picks a free port.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from dokploy_local.app import App
from dokploy_local.http_server import make_server
from dokploy_local.knobs import KnobError, validate_changes


def _knob_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dokploy_local", description="A local Dokploy v0.30 API server.")
    parser.add_argument("--port", type=int, default=3000, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--data", type=Path, required=True, help="directory for the SQLite state")
    parser.add_argument("--api-key", default=os.environ.get("DOKPLOY_LOCAL_API_KEY"), help="the owner key (x-api-key)")
    parser.add_argument(
        "--member-key",
        action="append",
        default=[],
        metavar="KEY=PROJECT[,PROJECT...]",
        help="a member key limited to these projects (ids or names); repeatable",
    )
    parser.add_argument("--knobs", default="{}", help="initial knobs as a JSON object")
    parser.add_argument("--knob", action="append", default=[], metavar="NAME=VALUE", help="one knob; repeatable")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("--api-key (or DOKPLOY_LOCAL_API_KEY) is required")
    try:
        knobs = json.loads(args.knobs)
        for item in args.knob:
            name, _, value = item.partition("=")
            knobs[name] = _knob_value(value)
        args.knobs = validate_changes(knobs)
    except (ValueError, KnobError) as error:
        parser.error(f"bad knobs: {error}")
    members = {}
    for item in args.member_key:
        key, sep, projects = item.partition("=")
        if not sep or not key:
            parser.error(f"--member-key wants KEY=PROJECT[,PROJECT...], got {item!r}")
        members[key] = [p for p in projects.split(",") if p]
    args.member_key = members
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    app = App(args.data, args.api_key, args.knobs)
    for key, projects in args.member_key.items():
        app.store.set_member_key(key, projects)
    server = make_server(app, args.host, args.port, verbose=args.verbose)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"http://{host}:{server.server_address[1]}", flush=True)

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        app.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
