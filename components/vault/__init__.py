"""Vault for Finance Report: access (hvac), key definitions, preflight, and the stack's dynamic resources.

    from components.vault import VaultSecrets, VaultSecretsArgs, VaultConnection, preflight, Access

The Pulumi-facing names (VaultSecrets, KvSecret, ServiceToken) import pulumi lazily, so the bootstrap
and preflight can be used without loading the Pulumi SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.vault.authority import Access
from components.vault.client import VaultClient
from components.vault.connection import VaultConnection
from components.vault.errors import (
    MissingProvidedKey,
    VaultAuthError,
    VaultConfigError,
    VaultError,
    VaultNotFound,
    VaultPermissionDenied,
    VaultUnreachable,
)
from components.vault.keys import Endpoints, KeyClass, KeySpec, ServiceSecrets, secret_layout, service_keys
from components.vault.preflight import preflight, preflight_error, transit_preflight

if TYPE_CHECKING:
    from components.vault.component import VaultSecrets, VaultSecretsArgs
    from components.vault.resources import KvSecret, ServiceToken

__all__ = [
    "Access",
    "Endpoints",
    "KeyClass",
    "KeySpec",
    "KvSecret",
    "MissingProvidedKey",
    "ServiceSecrets",
    "ServiceToken",
    "VaultAuthError",
    "VaultClient",
    "VaultConfigError",
    "VaultConnection",
    "VaultError",
    "VaultNotFound",
    "VaultPermissionDenied",
    "VaultSecrets",
    "VaultSecretsArgs",
    "VaultUnreachable",
    "preflight",
    "preflight_error",
    "secret_layout",
    "service_keys",
    "transit_preflight",
]

_LAZY = {
    "VaultSecrets": "components.vault.component",
    "VaultSecretsArgs": "components.vault.component",
    "KvSecret": "components.vault.resources",
    "ServiceToken": "components.vault.resources",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
