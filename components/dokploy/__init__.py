"""Dokploy as Pulumi dynamic resources: Project, Environment, Compose, Domain, ComposeDeployment.

Configuration (read at call time, never stored): stack config `dokploy:url`, secret `dokploy:apiKey`
(an owner or admin API key) and optional `dokploy:serverId` (place composes on a remote server), or the
environment variables DOKPLOY_URL, DOKPLOY_API_KEY, DOKPLOY_SERVER_ID. See README.md in this folder.
"""

from components.dokploy.client import DokployClient, resolve_settings
from components.dokploy.compose import Compose
from components.dokploy.deployment import ComposeDeployment
from components.dokploy.domain import Domain
from components.dokploy.environment import Environment
from components.dokploy.errors import DokployError
from components.dokploy.preflight import preflight
from components.dokploy.project import Project

__all__ = [
    "Compose",
    "ComposeDeployment",
    "DokployClient",
    "DokployError",
    "Domain",
    "Environment",
    "Project",
    "preflight",
    "resolve_settings",
]
