"""The shell command a real Dokploy runs to deploy a compose, modelled: where a compose's env ends up.

Nothing is executed (there is no Docker here). What matters is what real Dokploy v0.30 puts on a command
line, because a command line is visible in `ps` on the Dokploy host while it runs, and a failed deploy
prints the whole command into Dokploy's server log (issue 12, seen in plain text). From
`packages/server/src/utils/builders/compose.ts` and what a running server did:

  - the compose file is written with `echo "<base64>" | base64 -d > docker-compose.yml`;
  - `docker-compose` type: the env (plus APP_NAME, COMPOSE_PROJECT_NAME) goes into `.env` the same way
    (`getCreateEnvFileCommand`), then `docker compose -p <appName> -f docker-compose.yml up -d --build
    --remove-orphans`;
  - `stack` type: the env is exported onto the deploy command itself (`getExportEnvCommand`):
    `env -i PATH="$PATH" KEY='value' ... docker stack deploy -c docker-compose.yml --prune
    --with-registry-auth <appName>`.

Each deploy's argv (`bash -c <script>`, as Dokploy's execAsync starts it) is appended to
`<data>/deploy-commands.jsonl`; a failed one also writes `Error: Command failed: <script>` to
`<data>/dokploy.log`, as Dokploy's server log does.
"""

from __future__ import annotations

import base64
import json
import shlex
import threading
from pathlib import Path
from typing import Any

COMMANDS_FILE = "deploy-commands.jsonl"
SERVER_LOG = "dokploy.log"
_LOCK = threading.Lock()


def parse_env(text: str | None) -> dict[str, str]:
    """Dokploy's env column (dotenv: KEY=value lines, optional quotes, `#` comments)."""
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip().removeprefix("export ").strip()] = value
    return out


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def script(compose: dict[str, Any]) -> str:
    """The bash script real Dokploy runs for this compose row."""
    app = str(compose.get("appName") or "")
    env = {"APP_NAME": app, "COMPOSE_PROJECT_NAME": app, **parse_env(compose.get("env"))}
    lines = [
        f"cd /etc/dokploy/compose/{app}/code",
        f'echo "{_b64(str(compose.get("composeFile") or ""))}" | base64 -d > docker-compose.yml',
    ]
    if compose.get("composeType") == "stack":
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        deploy = f"docker stack deploy -c docker-compose.yml --prune --with-registry-auth {app}"
        lines.append(f'env -i PATH="$PATH" {exports} {deploy}')
    else:
        dotenv = "\n".join(f"{k}={json.dumps(v)}" for k, v in env.items())
        lines.append(f'echo "{_b64(dotenv)}" | base64 -d > .env')
        lines.append(f"docker compose -p {app} -f docker-compose.yml up -d --build --remove-orphans")
    return "\n".join(lines)


def argv(compose: dict[str, Any]) -> list[str]:
    return ["bash", "-c", script(compose)]


def record(data_dir: Path, compose: dict[str, Any], *, failed: bool) -> None:
    """Keep the deploy's argv; on failure, log the command as Dokploy does."""
    args = argv(compose)
    with _LOCK:
        with (data_dir / COMMANDS_FILE).open("a") as f:
            f.write(json.dumps({"composeId": compose.get("composeId"), "argv": args}) + "\n")
        if failed:
            with (data_dir / SERVER_LOG).open("a") as f:
                f.write(f"Error: Command failed: {args[2]}\n")


def recorded(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / COMMANDS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
