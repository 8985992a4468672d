"""Fail early, and clearly, when a stack needs a provider plugin that is not installed.

The engine loads a resource plugin only when the first resource of its package is registered, and with
PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION it will not fetch one: the failure would come mid-update with
a generic message. Components call `require_plugin` before registering anything, so the error names the
plugin and the fix, and nothing has changed yet. The `local` stack never calls it.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib import resources
from pathlib import Path


class MissingPluginError(RuntimeError):
    """One line: which plugin, why the stack needs it, how to install it."""


def sdk_plugin_version(package: str) -> str:
    """The plugin version a provider SDK asks the engine for (its pulumi-plugin.json), without importing it."""
    meta = json.loads(resources.files(package).joinpath("pulumi-plugin.json").read_text())
    return str(meta["version"])


def pulumi_home() -> Path:
    return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")


def plugin_installed(name: str, version: str, kind: str = "resource") -> bool:
    # The same two places the engine looks: the plugin cache (a `.partial` marker means an interrupted
    # install the engine ignores) and an ambient `pulumi-resource-<name>` binary on PATH.
    cached = pulumi_home() / "plugins" / f"{kind}-{name}-v{version}"
    if cached.is_dir() and not cached.with_name(cached.name + ".partial").exists():
        return True
    return shutil.which(f"pulumi-{kind}-{name}") is not None


def require_plugin(name: str, package: str, why: str) -> None:
    version = sdk_plugin_version(package)
    if not plugin_installed(name, version):
        raise MissingPluginError(
            f"{why} needs the Pulumi '{name}' resource plugin v{version}, which is not installed in "
            f"{pulumi_home() / 'plugins'} or on PATH; install it with "
            f"`pulumi plugin install resource {name} v{version}` (nothing was changed)"
        )
