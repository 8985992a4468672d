"""Many objects at once, written straight to the store (no HTTP, no faults, no counters).

For the benchmark's neighbour stacks: each seeded project looks exactly like one created through the API (its
default `production` environment included), so listings such as `project.all` pay the same cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dokploy_local.ids import now_iso
from dokploy_local.rows import compose_row, deployment_row, domain_row, environment_row, production_environment_row
from dokploy_local.rows import project_row as new_project_row
from dokploy_local.store import Store


@dataclass
class SeedSpec:
    projects: int = 1
    environments_per_project: int = 0  # besides `production`
    composes_per_environment: int = 0
    domains_per_compose: int = 0
    deployments_per_compose: int = 0
    name_prefix: str = "seed"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedSpec:
        spec = cls(**data)
        for name in ("projects", "environments_per_project", "composes_per_environment"):
            value = getattr(spec, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        if not (spec.domains_per_compose >= 0 and 0 <= spec.deployments_per_compose <= 10):
            raise ValueError("domains_per_compose must be >= 0 and deployments_per_compose between 0 and 10")
        return spec


def seed(store: Store, spec: SeedSpec) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = {
        t: [] for t in ("project", "environment", "compose", "domain", "deployment")
    }
    created: list[dict[str, Any]] = []
    with store.transaction():
        for p in range(spec.projects):
            name = f"{spec.name_prefix}-{p}"
            project = new_project_row({"name": name, "description": f"seeded {name}"}, store.organization_id)
            environments = [production_environment_row(project["projectId"])]
            environments += [
                environment_row({"name": f"env-{e}", "projectId": project["projectId"]})
                for e in range(spec.environments_per_project)
            ]
            rows["project"].append(project)
            rows["environment"] += environments
            compose_ids = []
            for env in environments:
                for c in range(spec.composes_per_environment):
                    compose = compose_row(
                        {
                            "name": f"{name}-{env['name']}-{c}",
                            "environmentId": env["environmentId"],
                            "sourceType": "raw",
                        }
                    )
                    if spec.deployments_per_compose:
                        compose["composeStatus"] = "done"
                    rows["compose"].append(compose)
                    compose_ids.append(compose["composeId"])
                    for d in range(spec.domains_per_compose):
                        host = f"{compose['appName']}-{d}.seed.invalid"
                        given = {"host": host, "composeId": compose["composeId"], "domainType": "compose"}
                        rows["domain"].append(domain_row(given, store.next_serial("uniqueConfigKey")))
                    for _ in range(spec.deployments_per_compose):
                        deployment = deployment_row(compose, "Manual deployment", "")
                        deployment.update(status="done", finishedAt=now_iso())
                        rows["deployment"].append(deployment)
            created.append(
                {
                    "projectId": project["projectId"],
                    "name": name,
                    "environmentIds": [e["environmentId"] for e in environments],
                    "composeIds": compose_ids,
                }
            )
        for table, table_rows in rows.items():
            store.insert_many(table, table_rows)
    return {"projects": created, "counts": {table: len(table_rows) for table, table_rows in rows.items()}}
