"""Dokploy objects in the preview project that carry our marker but belong to no stack.

A crash or an answer lost on the wire can leave an object Dokploy created but no stack recorded. Every
object a stack creates carries a marker (`[pulumi:<12 hex>]` at the end of its description, see
`components.dokploy.markers`); each resource keeps its marker in its state. So an object is an orphan
when it carries a marker that no live stack's state holds. Left alone: objects without our marker
(made by hand), and objects whose name or description names a live stack (its deploy may be running,
with the object created but not yet recorded). The reaper lists with the preview member key, which
sees nothing but the preview project.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from components.dokploy.markers import split_description
from components.environment import PREVIEW_PROJECT

_PR_STACK = re.compile(r"\bpr-[1-9][0-9]*\b")
_MARKER = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class DokployObject:
    kind: str  # "compose" or "environment"
    id: str
    name: str
    description: str | None
    environment: str = ""  # the name of the Dokploy environment it sits in (itself, for an environment)

    @property
    def marker(self) -> str | None:
        return split_description(self.description)[1] or None

    @property
    def named_stack(self) -> str | None:
        """The `pr-<N>` its name or description mentions, for the report and the live-stack guard."""
        m = _PR_STACK.search(f"{self.name} {self.description or ''}")
        return m.group(0) if m else None


def markers_in_state(export: str | dict[str, Any]) -> set[str]:
    """Every `marker` a stack's resources hold (`pulumi stack export` JSON), wherever it sits in their props."""
    data = json.loads(export) if isinstance(export, str) else export
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            value = node.get("marker")
            if isinstance(value, str) and _MARKER.match(value):
                found.add(value)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for res in (data.get("deployment") or {}).get("resources") or []:
        walk(res.get("inputs"))
        walk(res.get("outputs"))
    return found


def stack_objects(objects: Iterable[DokployObject], stack: str) -> list[DokployObject]:
    """What the reaper deletes for a PR stack, decided by base-branch code from Dokploy alone (never from the
    stack's state, which the PR can write): marked objects in the preview project that sit in the
    environment named after the stack, or that name the stack. Unmarked objects (made by hand) stay."""
    return [o for o in objects if o.marker and (o.environment == stack or o.named_stack == stack)]


def select_orphans(
    objects: Iterable[DokployObject], live_markers: set[str], live_stacks: Iterable[str]
) -> list[tuple[DokployObject, str]]:
    """(object, the stack it seems to have belonged to, or "unknown") for each orphan."""
    live = set(live_stacks)
    out = []
    for obj in objects:
        if obj.marker is None or obj.marker in live_markers:
            continue
        stack = obj.named_stack
        if stack in live:
            continue
        out.append((obj, stack or "unknown"))
    return out


class PreviewProject:
    """The few Dokploy calls the reaper needs (dokploy-api.md §3.1-3.3), scoped to the preview project."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None):
        self._http = httpx.Client(
            base_url=url.rstrip("/") + "/api",
            headers={"x-api-key": api_key, "accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> PreviewProject:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def objects(self) -> list[DokployObject]:
        projects = self._get("project.all")
        out: list[DokployObject] = []
        for project in projects:
            if project.get("name") != PREVIEW_PROJECT:
                continue
            for env in self._get("environment.byProjectId", projectId=project["projectId"]):
                for compose in env.get("compose") or []:
                    out.append(
                        DokployObject(
                            "compose",
                            compose["composeId"],
                            compose.get("name", ""),
                            compose.get("description"),
                            env.get("name", ""),
                        )
                    )
                if not env.get("isDefault"):  # the default environment cannot be deleted and is not ours
                    name = env.get("name", "")
                    out.append(DokployObject("environment", env["environmentId"], name, env.get("description"), name))
        return out

    def delete(self, obj: DokployObject) -> None:
        if obj.kind == "compose":
            self._post("compose.delete", composeId=obj.id, deleteVolumes=True)  # PR data is throwaway
        elif obj.kind == "environment":
            self._post("environment.remove", environmentId=obj.id)
        else:
            raise ValueError(f"unknown Dokploy object kind {obj.kind!r}")

    def _get(self, procedure: str, **params: str) -> list[dict]:
        resp = self._http.get(f"/{procedure}", params=params)
        resp.raise_for_status()
        data = resp.json()
        return data if isinstance(data, list) else []

    def _post(self, procedure: str, **body: object) -> None:
        self._http.post(f"/{procedure}", json=body).raise_for_status()


def delete_order(orphans: list[tuple[DokployObject, str]]) -> list[tuple[DokployObject, str]]:
    """Composes before environments: Dokploy refuses to remove an environment that still has services."""
    return sorted(orphans, key=lambda pair: pair[0].kind != "compose")


class PreviewSecrets:
    """A PR stack's KV secrets, purged through Vault's API (hvac) with the reaper's PR-scoped token."""

    def __init__(self, address: str, token: str, *, mount: str = "secret") -> None:
        import hvac

        self._kv = hvac.Client(url=address, token=token).secrets.kv.v2
        self._mount = mount

    def purge(self, prefix: str) -> list[str]:
        """Delete every secret (all versions and metadata) directly under `prefix`; returns their paths."""
        import hvac

        try:
            keys = self._kv.list_secrets(path=prefix, mount_point=self._mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            return []
        gone = []
        for key in keys:
            path = f"{prefix}/{key.rstrip('/')}"
            if key.endswith("/"):
                gone += self.purge(path)
                continue
            self._kv.delete_metadata_and_all_versions(path=path, mount_point=self._mount)
            gone.append(path)
        return gone
