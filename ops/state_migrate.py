"""Move a stack between self-managed backends (file:// <-> s3://), its secrets provider kept.

    make migrate-state STACK=local TO='s3://finance-report-state-staging?endpoint=…&use_path_style=true&region=…'
    python -m ops.state_migrate --stack staging --from file://… --to s3://…

Steps: `pulumi stack export` from the source (ciphertext stays ciphertext: no --show-secrets);
`pulumi stack init --secrets-provider <the same>` on the target (refused if the target has the stack),
which reuses the stack file's `encryptedkey`, so the config's secure values still open; `pulumi stack
import`; check the target's resources equal the source's; check the source did not change meanwhile (no
lock is taken: run it when no update runs, e.g. inside the stack's concurrency group); then remove the
source's copy with `pulumi stack rm --force --preserve-config` (resources and Pulumi.<stack>.yaml are
untouched), unless --keep-source. The next `pulumi preview` on the target shows no changes
(tests/state/test_migrate.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from components.environment import ConfigError
from ops.pulumi_cli import pulumi_binary
from ops.stacks import REPO
from ops.state_store import redacted

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in state


def _pulumi(backend: str, *args: str, cwd: Path) -> str:
    env = {**os.environ, "PULUMI_BACKEND_URL": backend}
    proc = subprocess.run(
        [pulumi_binary(), "--non-interactive", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise RuntimeError(
            f"pulumi {args[0]} {args[1] if len(args) > 1 else ''} on {redacted(backend)} failed: {last[0]}"
        )
    return proc.stdout


def secrets_provider(export: dict[str, Any]) -> str:
    """The `--secrets-provider` value that recreates the exported stack's secrets manager."""
    provider = (export.get("deployment") or {}).get("secrets_providers") or {}
    kind = provider.get("type")
    if kind == "passphrase":
        return "passphrase"
    if kind == "cloud" and (url := (provider.get("state") or {}).get("url")):
        return str(url)
    if kind is None:
        return "default"
    raise ConfigError(f"secrets provider {kind!r} cannot be carried to a self-managed backend; change it first")


def _mask_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return "<secret>"  # ciphertext differs after re-encryption; the value itself is not compared
        return {k: _mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(v) for v in value]
    return value


def resources(export: dict[str, Any]) -> list[Any]:
    """What must survive a move: every resource (urn, id, inputs, outputs, dependencies), secrets masked."""
    return [_mask_secrets(r) for r in (export.get("deployment") or {}).get("resources") or []]


def migrate(stack: str, source: str, target: str, *, cwd: Path, keep_source: bool = False) -> str:
    if source.split("?", 1)[0] == target.split("?", 1)[0]:
        raise ConfigError("--from and --to are the same backend")
    exported = _pulumi(source, "stack", "export", "--stack", stack, cwd=cwd)
    before = json.loads(exported)
    provider = secrets_provider(before)
    with tempfile.TemporaryDirectory(prefix="migrate-state-") as tmp:
        path = Path(tmp) / "state.json"
        path.write_text(exported)
        path.chmod(0o600)
        # refuses (`already exists`) before anything is written when the target has the stack
        _pulumi(target, "stack", "init", stack, "--secrets-provider", provider, "--no-select", cwd=cwd)
        _pulumi(target, "stack", "import", "--stack", stack, "--file", str(path), cwd=cwd)
    after = json.loads(_pulumi(target, "stack", "export", "--stack", stack, cwd=cwd))
    if resources(after) != resources(before):
        raise RuntimeError(f"the imported stack on {redacted(target)} differs from the source; the source is kept")
    if keep_source:
        return f"copied {stack} to {redacted(target)} ({len(resources(after))} resources); the source is kept"
    if resources(json.loads(_pulumi(source, "stack", "export", "--stack", stack, cwd=cwd))) != resources(before):
        raise RuntimeError(
            f"stack {stack} changed on {redacted(source)} during the move; both copies are kept: remove the "
            f"target's with `pulumi stack rm {stack} --force` and run again when no update runs"
        )
    _pulumi(source, "stack", "rm", stack, "--force", "--preserve-config", "--yes", cwd=cwd)
    return f"moved {stack} to {redacted(target)} ({len(resources(after))} resources, secrets provider {provider})"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.state_migrate", description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", required=True)
    p.add_argument(
        "--from", dest="source", default=os.environ.get("PULUMI_BACKEND_URL"), help="default: $PULUMI_BACKEND_URL"
    )
    p.add_argument("--to", dest="target", required=True)
    p.add_argument("--cwd", type=Path, default=REPO, help="the project directory (default: this repository)")
    p.add_argument("--keep-source", action="store_true", help="copy only; leave the source's stack in place")
    a = p.parse_args(argv)
    try:
        if not a.source:
            raise ConfigError("no source backend: set PULUMI_BACKEND_URL or pass --from <url>")
        if not a.stack or not a.target:
            raise ConfigError("usage: make migrate-state STACK=<stack> TO=<backend url>")
        print(migrate(a.stack, a.source, a.target, cwd=a.cwd, keep_source=a.keep_source))
        return 0
    except (ConfigError, RuntimeError, OSError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
