"""Render the templates for an environment, and validate every file against the Compose schema.

`plan(env, images)` is the whole of what the FinanceReport component deploys on Dokploy, as data:
which composes, their type, their text, the keys of their Dokploy env, and which of those are secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

from components.compose import templates, vault_agent
from components.compose.templates import Images
from components.compose.vault_agent import VAULT_TOKEN_KEY as VAULT_TOKEN_KEY
from components.environment import Environment


class ComposeSchemaError(ValueError):
    """A rendered compose file does not satisfy the Compose specification (a bug in a template)."""


@dataclass(frozen=True)
class ComposeFile:
    name: str  # the Dokploy compose's name: postgres, redis, app or pr-<N>
    compose_type: str  # docker-compose | stack
    text: str
    env_keys: tuple[str, ...]  # keys of its Dokploy env: none, or a PR's VAULT_APP_TOKEN (a secret)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True)


@cache
def _schema() -> dict[str, Any]:
    # The same document `check-jsonschema --builtin-schema vendor.compose-spec` uses.
    text = resources.files("check_jsonschema").joinpath("builtin_schemas/vendor/compose-spec.json").read_text()
    return dict(json.loads(text))


def validate(text: str) -> None:
    document = yaml.safe_load(text)
    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ComposeSchemaError(f"compose file fails the Compose schema at {where}: {error.message}")


def _file(name: str, compose_type: str, document: dict[str, Any], secret_keys: tuple[str, ...]) -> ComposeFile:
    text = to_yaml(document)
    validate(text)
    return ComposeFile(name, compose_type, text, env_keys=secret_keys)


def plan(env: Environment, images: Images) -> list[ComposeFile]:
    """The composes of one environment, in deploy order (the data services before `app`)."""
    token = vault_agent.env_keys(env)
    if env.data.bundled:  # one compose holds the data services too
        return [_file(env.name, "docker-compose", templates.preview_compose(env, images), token)]
    return [
        _file("postgres", "docker-compose", templates.postgres_compose(env), token),
        _file("redis", "docker-compose", templates.redis_compose(env), token),
        _file("app", "stack", templates.app_compose(env, images), token),
    ]
