"""One host per environment, two Dokploy domains on it: `/api` to the backend, the rest to the frontend.

The backend's routers already carry `/api` (seed §3c), so by default the prefix is kept (`stripPath`
false) and `NEXT_PUBLIC_API_URL` is the bare origin: the frontend calls `<origin>/api/...`, which lands on
the backend's `/api/...` route. The seed stripped `/api` and also put `/api` in the URL, giving `/api/api`.
`resolve()` applies Traefik's rule to these domains, so tests can follow a URL to the route it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from components.compose.templates import BACKEND_PORT, FRONTEND_PORT
from components.environment import Environment


@dataclass(frozen=True)
class DomainSpec:
    """What one Dokploy compose domain (`domain.create` with domainType compose) carries."""

    key: str  # stable resource suffix: "api" or "web"
    compose: str  # the Dokploy compose service (postgres, redis, app, pr-<N>) the domain belongs to
    service_name: str  # the service inside the compose file
    host: str
    path: str
    port: int
    strip_path: bool
    https: bool = True
    certificate_type: str = "letsencrypt"


@dataclass(frozen=True)
class Route:
    service_name: str
    port: int
    path: str  # what the container receives


def app_compose_name(env: Environment) -> str:
    """The compose that serves HTTP: `app`, or the single `pr-<N>` compose."""
    return env.app_compose


def domains(env: Environment) -> list[DomainSpec]:
    compose = app_compose_name(env)
    r = env.routing
    return [
        DomainSpec("api", compose, "backend", env.host, r.api_path, BACKEND_PORT, r.strip_api_prefix),
        DomainSpec("web", compose, "frontend", env.host, "/", FRONTEND_PORT, False),
    ]


def _matches(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


def resolve(specs: list[DomainSpec], url: str) -> Route | None:
    """Traefik's choice for `Host(h) && PathPrefix(p)` routers: the longest matching prefix wins.

    Dokploy writes one router per domain; Traefik's default priority is the rule's length, so with a
    shared host the longer path prefix is preferred. Returns None when no router matches (a 404).
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    candidates = [s for s in specs if s.host == parts.hostname and _matches(path, s.path)]
    if not candidates or parts.scheme != ("https" if candidates[0].https else "http"):
        return None
    best = max(candidates, key=lambda s: len(s.path))
    forwarded = path
    if best.strip_path and best.path != "/":
        forwarded = path[len(best.path) :] or "/"
    return Route(best.service_name, best.port, forwarded)
