"""Objects the stack's state holds that are gone from the servers (deleted by hand), found in constant reads.

`pulumi up` does not read live objects, so a compose or a KV secret deleted by hand stayed "unchanged"
forever. Reading every resource (`up --refresh`) costs a call per object; this costs one `project.all`
(which lists every project's environments and composes) and one KV metadata listing per environment
prefix, compared with the state (a local file read). What is gone, and what hangs off it (domains and
deployments of a gone compose, everything in a gone environment), is printed as URNs, one a line; `make up`
refreshes exactly those, so the following `up` creates them again.

    python -m ops.missing_objects --stack local    # URNs on stdout; nothing when all is there
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import hvac.exceptions

from components.dokploy.client import DokployClient, resolve_settings
from components.dokploy.errors import DokployError
from components.vault.client import VaultClient
from components.vault.connection import VaultConnection
from components.vault.errors import VaultError
from ops import pulumi_cli
from ops.destroy_check import Refused, pulumi_stack_config

ID_FIELDS = {"dokploy:Project": "project_id", "dokploy:Environment": "environment_id", "dokploy:Compose": "compose_id"}
KV = "vault:KvSecret"


def live_ids(listing: Sequence[Mapping[str, Any]]) -> set[str]:
    """Every project, environment and compose id in a `project.all` answer."""
    ids: set[str] = set()
    for p in listing:
        ids.add(str(p.get("projectId")))
        for e in p.get("environments") or []:
            ids.add(str(e.get("environmentId")))
            ids.update(str(c.get("composeId")) for c in e.get("compose") or [])
    return ids


def missing(
    resources: Sequence[Mapping[str, Any]], dokploy_ids: set[str] | None, kv_paths: set[str] | None
) -> list[str]:
    """URNs of resources whose object is gone, and of those that reference a gone id. None: not checked."""
    gone_ids: set[str] = set()
    urns: list[str] = []
    for r in resources:
        kind, outputs = str(r.get("type", "")), r.get("outputs") or {}
        for suffix, field in ID_FIELDS.items():
            value = str(outputs.get(field) or "")
            if dokploy_ids is not None and kind.endswith(suffix) and value and value not in dokploy_ids:
                gone_ids.add(value)
        if kv_paths is not None and kind.endswith(KV) and r.get("id") and str(r["id"]) not in kv_paths:
            urns.append(str(r["urn"]))
    for r in resources:
        outputs = r.get("outputs") or {}
        refs = {str(outputs.get(f)) for f in (*ID_FIELDS.values(), "domain_id") if outputs.get(f)}
        if "dokploy:" in str(r.get("type", "")) and refs & gone_ids:
            urns.append(str(r["urn"]))
    return sorted(set(urns))


def _kv_paths(client: VaultClient, mount: str, prefixes: set[str]) -> set[str]:
    found: set[str] = set()
    for prefix in sorted(prefixes):
        try:
            keys = client.hv.secrets.kv.v2.list_secrets(path=prefix, mount_point=mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            keys = []
        found.update(f"{mount}/{prefix}/{k}" for k in keys if not k.endswith("/"))
    return found


def find(stack: str, state: Mapping[str, Any], config: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    resources = list((state.get("deployment") or {}).get("resources") or [])
    dokploy_ids = None
    if any("dynamic/dokploy:" in str(r.get("type", "")) for r in resources):
        with DokployClient(resolve_settings(config, environ)) as c:
            dokploy_ids = live_ids(c.query("project.all") or [])
    kv_ids = [str(r["id"]) for r in resources if str(r.get("type", "")).endswith(KV) and r.get("id")]
    kv_paths = None
    if kv_ids:
        mounts = {i.split("/", 1)[0] for i in kv_ids}
        prefixes = {i.split("/", 1)[1].rsplit("/", 1)[0] for i in kv_ids}
        client = VaultClient.connect(VaultConnection(address=config.get("vault:address") or None), environ)
        kv_paths = set().union(*(_kv_paths(client, m, prefixes) for m in mounts))
    return missing(resources, dokploy_ids, kv_paths)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.missing_objects", description=__doc__.splitlines()[0])
    p.add_argument("--stack", required=True)
    a = p.parse_args(argv)
    try:
        state = json.loads(pulumi_cli.export(a.stack))
        urns = find(a.stack, state, pulumi_stack_config(a.stack), os.environ)
    except (Refused, RuntimeError, DokployError, VaultError) as exc:
        print(f"missing-objects: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print("\n".join(urns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
