"""The policy pack's rules, as plain functions so unit tests can call them without the engine.

They decide from the stack name in each resource's URN through the environment model, so the policy
never keeps its own idea of how environments differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.environment import ConfigError, data_protected

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
