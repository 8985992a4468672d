"""Stack names, image tags and environment facts for the workflows, all through the environment model.

The workflows never build a host name or a stack name themselves: they ask here, and this asks
`components.environment`, with the stack's own config file so a `baseDomain` override is honoured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from components.environment import (
    FOREIGN_CONFIG_KEYS,
    ConfigError,
    Environment,
    Kind,
    commit_tag_pattern,
    environment_for,
    parse_stack,
)

REPO = Path(__file__).resolve().parents[1]
CONFIG_NAMESPACE = "financeReport"
# Other namespaces the program maps into the model (components/program.py read_model).
_MAPPED = {key: name for name, key in FOREIGN_CONFIG_KEYS.items()}
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def pr_stack(pr_number: int | str) -> str:
    """`pr-<N>` for a pull request number, validated by the model (so `0`, `-1`, `07` are refused)."""
    stack = f"pr-{str(pr_number).strip()}"
    kind, _ = parse_stack(stack)
    if kind is not Kind.PREVIEW:  # pragma: no cover - parse_stack only yields PREVIEW for pr-<N>
        raise ConfigError(f"{stack} is not a PR stack")
    return stack


def short_sha(sha: str) -> str:
    sha = sha.strip().lower()
    if not _SHA.match(sha):
        raise ConfigError(f"commit {sha!r} is not a hex commit id of 7 to 40 characters")
    return sha[:7]


def image_tag(stack: str, sha: str) -> str:
    """The tag CI builds for a stack at a commit: `pr-<N>-<sha7>` or `sha-<sha7>` (the model checks it)."""
    pattern = commit_tag_pattern(stack)
    if pattern is None:
        raise ConfigError(f"stack {stack} is never built from a commit; production deploys a released vX.Y.Z tag")
    tag = pattern.format(sha7=short_sha(sha))
    environment_for(stack, {"imageTag": tag})  # the model's tag rules, not a copy of them
    return tag


def stack_config(stack: str, root: Path = REPO) -> dict[str, str]:
    """The plain `financeReport:*` values of `Pulumi.<stack>.yaml` (secure values are not needed here)."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    out: dict[str, str] = {}
    for key, value in (doc.get("config") or {}).items():
        ns, _, name = str(key).partition(":")
        name = _MAPPED.get(str(key), name if ns == CONFIG_NAMESPACE else "")
        if name and isinstance(value, str | int | float | bool):
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def environment(stack: str, image_tag: str | None = None, root: Path = REPO) -> Environment:
    config: dict[str, str] = stack_config(stack, root)
    if image_tag:
        config["imageTag"] = image_tag
    return environment_for(stack, config)


def facts(env: Environment) -> dict[str, str]:
    """What a workflow step needs to know about an environment (GitHub `environment.url`, smoke targets)."""
    return {
        "stack": env.stack,
        "url": env.url,
        "host": env.host,
        "image_tag": env.image_tag,
        "health_url": env.url + env.routing.health_path,
        "dokploy_project": env.dokploy_project,
    }


def deployed_config(history: Sequence[Mapping[str, object]], key: str) -> str | None:
    """`key`'s value in the newest *succeeded* update of `pulumi stack history --json` (newest first).

    CI passes `financeReport:imageTag` per run instead of committing it, so this is how a later job learns
    what the stack runs now (the drift check, the PR preview of staging, production's rollback hint).
    """
    for entry in history:
        if entry.get("kind") != "update" or entry.get("result") != "succeeded":
            continue
        config = entry.get("config")
        if isinstance(config, Mapping) and isinstance(config.get(key), Mapping):
            value = config[key].get("value")
            if isinstance(value, str) and not config[key].get("secret"):
                return value
        return None
    return None


def parse_history(text: str) -> list[Mapping[str, object]]:
    data = json.loads(text or "[]")
    return [e for e in data if isinstance(e, Mapping)] if isinstance(data, list) else []
