"""Compose files for Dokploy, generated from the templates in this package and checked against the Compose schema."""

from components.compose.render import ComposeFile, ComposeSchemaError, plan, validate
from components.compose.routing import DomainSpec, Route, domains, resolve
from components.compose.templates import Images

__all__ = [
    "ComposeFile",
    "ComposeSchemaError",
    "DomainSpec",
    "Images",
    "Route",
    "domains",
    "plan",
    "resolve",
    "validate",
]
