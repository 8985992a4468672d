"""Which Dokploy procedures the local server answers, and whether each is a query (GET) or a mutation (POST).

The list follows what a compose-focused provider calls (`dokploy-api.md` §3 and §7). Anything else gets
Dokploy's own 404 for an unknown procedure, after authentication like every other `/api/*` path.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["query", "mutation"]

EMULATED_PROCEDURES: dict[str, Kind] = {
    "project.create": "mutation",
    "project.all": "query",
    "project.one": "query",
    "project.update": "mutation",
    "project.remove": "mutation",
    "environment.create": "mutation",
    "environment.one": "query",
    "environment.byProjectId": "query",
    "environment.update": "mutation",
    "environment.remove": "mutation",
    "compose.create": "mutation",
    "compose.one": "query",
    "compose.update": "mutation",
    "compose.saveEnvironment": "mutation",
    "compose.delete": "mutation",
    "compose.deploy": "mutation",
    "compose.redeploy": "mutation",
    "compose.stop": "mutation",
    "compose.start": "mutation",
    "compose.cancelDeployment": "mutation",
    "domain.create": "mutation",
    "domain.one": "query",
    "domain.update": "mutation",
    "domain.delete": "mutation",
    "domain.byComposeId": "query",
    "deployment.allByCompose": "query",
    "deployment.all": "query",
    "deployment.allByType": "query",
    "deployment.queueList": "query",
    "registry.create": "mutation",
    "registry.all": "query",
    "registry.one": "query",
    "registry.update": "mutation",
    "registry.remove": "mutation",
    "registry.testRegistry": "mutation",
    "settings.getDokployVersion": "query",
    "user.createApiKey": "mutation",
    "user.deleteApiKey": "mutation",
}
