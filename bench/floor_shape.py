"""A stack's shape, from `pulumi stack export`: what the floor program registers, and how long its dependency chain is.

The shape keeps each component and custom resource (not the stack root, not providers) with its type, name,
parent and dependencies, in the state's order (parents and dependencies first). `chain_length` is the longest
path through the dependency graph counting only the resources that talk to Dokploy: on a fresh `up` each of them
needs at least one write after the ones it depends on, so that many requests must happen one after the other.
"""

from __future__ import annotations

from typing import Any

STACK_TYPE = "pulumi:pulumi:Stack"


def shape_of(deployment: dict[str, Any], changes: str | None = None) -> dict[str, Any]:
    """`deployment`: `pulumi stack export`'s `deployment`; `changes`: a name fragment marking the resources a
    one-tag change updates (see bench.engine)."""
    resources = []
    for r in deployment.get("resources") or []:
        type_ = str(r["type"])
        if type_ == STACK_TYPE or type_.startswith("pulumi:providers:"):
            continue
        urn = str(r["urn"])
        name = urn.rsplit("::", 1)[1]
        parent = r.get("parent") or ""
        resources.append(
            {
                "urn": urn,
                "type": type_,
                "name": name,
                "custom": bool(r.get("custom")),
                "parent": "" if f"::{STACK_TYPE}::" in parent else parent,
                "dependencies": list(r.get("dependencies") or []),
                "dokploy": is_dokploy(r),
                "changes": bool(changes and changes in name),
            }
        )
    return {"resources": resources}


def is_dokploy(resource: dict[str, Any]) -> bool:
    """A custom resource whose provider calls Dokploy: its serialized dynamic provider names the module."""
    if not resource.get("custom"):
        return False
    provider = str((resource.get("outputs") or {}).get("__provider") or "")
    name = str(resource.get("urn", "")).rsplit("::", 1)[-1]
    return "dokploy" in provider.lower() or "dokploy" in str(resource.get("type", "")).lower() or "dokploy" in name


def chain_length(shape: dict[str, Any]) -> int:
    """Dokploy resources on the longest dependency path (each waits for the ones before it)."""
    by_urn = {r["urn"]: r for r in shape["resources"]}
    children: dict[str, list[str]] = {}
    for r in shape["resources"]:
        if r["parent"]:
            children.setdefault(r["parent"], []).append(r["urn"])
    memo: dict[str, int] = {}

    def leaves(urn: str) -> list[str]:
        # Depending on a component means depending on everything under it.
        node = by_urn.get(urn)
        if node is None:
            return []
        if node["custom"]:
            return [urn]
        return [leaf for child in children.get(urn, []) for leaf in leaves(child)]

    def depth(urn: str) -> int:
        if urn not in memo:
            node = by_urn[urn]
            before = [leaf for dep in node["dependencies"] for leaf in leaves(dep) if leaf != urn]
            memo[urn] = int(node["dokploy"]) + max((depth(d) for d in before), default=0)
        return memo[urn]

    return max((depth(r["urn"]) for r in shape["resources"] if r["custom"]), default=0)
