"""The policy pack's rules, as plain functions so unit tests can call them without the engine.

They decide from the stack name in each resource's URN through the environment model, so the policy
never keeps its own idea of how environments differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.compose.policy import DOCKER_SOCKET, host_access
from components.environment import (
    DEFAULT_AGENT_CREDENTIALS_DIR,
    ComposePolicy,
    ConfigError,
    compose_policy_of,
    data_protected,
)

_DATA_COMPOSE = re.compile(r"-(postgres|redis)$")
_IMAGE_LINE = re.compile(r"^\s*image:\s*['\"]?(?P<ref>[^\s'\"]+)", re.MULTILINE)


def stack_of(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name>"""
    return urn.split(":", 3)[2].split("::", 1)[0]


def is_data_bearing(resource_type: str, name: str) -> bool:
    """The shared projects (deleting one cascades through every environment) and the data composes."""
    if resource_type.endswith("dokploy:Project"):
        return True
    return resource_type.endswith("dokploy:Compose") and bool(_DATA_COMPOSE.search(name))


def protection_violation(urn: str, resource_type: str, name: str, protected: bool) -> str | None:
    try:
        must_protect = data_protected(stack_of(urn))
    except ConfigError:
        return None  # not one of our stacks' names: the program itself refuses those
    if must_protect and is_data_bearing(resource_type, name) and not protected:
        return f"{name} holds data in stack {stack_of(urn)} and must be created with protect=True"
    return None


def unpinned_app_images(props: Mapping[str, Any], repository_prefix: str) -> list[str]:
    """App images (ours, from the release registry) in a compose file that are not pinned by digest."""
    text = props.get("compose_file")
    if not isinstance(text, str):
        return []
    refs = [m.group("ref") for m in _IMAGE_LINE.finditer(text)]
    return [r for r in refs if r.startswith(repository_prefix) and "@sha256:" not in r]


def compose_host_access(urn: str, resource_type: str, name: str, props: Mapping[str, Any]) -> list[str]:
    """Host access a Dokploy compose asks for, in a stack whose model enforces the compose policy.

    The pack cannot see stack config (`dataPath`, `vaultAgentCredentialsDir`: the default directory is
    allowed), so a data compose (postgres, redis) may bind host
    directories for its data; the Docker socket and every other kind of host access stay refused for it.
    """
    text = props.get("compose_file")
    if not resource_type.endswith("dokploy:Compose") or not isinstance(text, str):
        return []
    try:
        enforced = compose_policy_of(stack_of(urn)) is ComposePolicy.ENFORCE
    except ConfigError:
        return []
    findings = host_access(text, (DEFAULT_AGENT_CREDENTIALS_DIR,))  # the vault-agents' secret_id files
    if _DATA_COMPOSE.search(name):
        findings = [f for f in findings if "mounts the host path" not in f or DOCKER_SOCKET in f]
    return findings if enforced else []
