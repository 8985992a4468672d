"""The emulated procedures, one module per Dokploy router; importing the package registers every handler."""

from dokploy_local.procedures import compose, deployment, domain, environment, project, registry, settings, user
from dokploy_local.procedures.catalog import EMULATED_PROCEDURES
from dokploy_local.procedures.table import ADMIN_ONLY, HANDLERS, NO_BODY

__all__ = [
    "ADMIN_ONLY",
    "EMULATED_PROCEDURES",
    "HANDLERS",
    "NO_BODY",
    "compose",
    "deployment",
    "domain",
    "environment",
    "project",
    "registry",
    "settings",
    "user",
]
