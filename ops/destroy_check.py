"""Before `pulumi destroy`: refuse, in one line, a destroy that could not finish.

`pulumi destroy` does not run the program, so the program's preflight never sees a destroy. A destroy that
starts and cannot finish leaves a half-deleted environment (Vault down: the Dokploy objects go, the tokens
stay) or drops from the state what still exists (Dokploy down). So `make destroy` and `scripts/stack.sh
destroy` run this first; it only reads:

- the stack holds Dokploy objects: the server answers, its version is supported, the key works;
- the stack holds Vault objects: Vault answers, is unsealed, and the token is valid;
- the stack owns shared projects: no other stack's environment lives in them (a `pr-<N>` in the preview
  project); destroy that stack first.

    python -m ops.destroy_check --stack local     # exit 0: go ahead; 1: one line on stderr, nothing deleted
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from components.dokploy.client import DokployClient, resolve_settings
from components.dokploy.errors import DokployError
from components.dokploy.preflight import preflight as dokploy_preflight
from components.vault.client import VaultClient
from components.vault.connection import VaultConnection
from components.vault.errors import VaultError
from ops import pulumi_cli

DOKPLOY = "dynamic/dokploy:"
VAULT = "dynamic/vault:"


class Refused(Exception):
    """One line: why this destroy would not finish, and what to do first."""


def _resources(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list((state.get("deployment") or {}).get("resources") or [])


def _of(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if str(r.get("type", "")).endswith(kind)]


def foreign_environments(project: Mapping[str, Any], ours: set[str]) -> list[str]:
    """Names of environments in `project` this stack did not make: not default, or default holding composes
    (production lives in the main project's default environment)."""
    found = []
    for env in project.get("environments") or []:
        if env.get("environmentId") in ours:
            continue
        if not env.get("isDefault") or env.get("compose"):
            found.append(str(env.get("name")))
    return sorted(found)


def check(stack: str, state: Mapping[str, Any], config: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    resources = _resources(state)
    dokploy = [r for r in resources if DOKPLOY in str(r.get("type", ""))]
    vault = [r for r in resources if VAULT in str(r.get("type", ""))]
    what = f"destroy of stack {stack} refused before deleting anything"
    if dokploy:
        try:
            settings = resolve_settings(config, environ)
        except DokployError as exc:
            raise Refused(f"{what}: {exc}") from None
        if problem := dokploy_preflight(settings.url, settings.api_key):
            raise Refused(f"{what}: {problem}; start or fix Dokploy, then destroy again")
        ours = {str((r.get("outputs") or {}).get("environment_id")) for r in _of(dokploy, "dokploy:Environment")}
        with DokployClient(settings) as client:
            for project in _of(dokploy, "dokploy:Project"):
                pid = (project.get("outputs") or {}).get("project_id")
                if not pid:
                    continue
                try:
                    live = client.query("project.one", projectId=pid) or {}
                except DokployError:
                    continue  # already gone: destroy will find it so too
                others = foreign_environments(live, ours)
                if others:
                    raise Refused(
                        f"{what}: project {live.get('name')!r} it owns still holds environment(s) "
                        f"{', '.join(others)} of other stacks; destroy those first "
                        f"(`pulumi destroy --stack {others[0]}`)"
                    )
    if vault:
        address = config.get("vault:address") or None
        try:
            vault_client = VaultClient.connect(VaultConnection(address=address), environ)
            vault_client.health()
            vault_client.lookup_self()
        except VaultError as exc:
            raise Refused(f"{what}: {' '.join(str(exc).split())}; start or unseal Vault, then destroy again") from None


def pulumi_stack_config(stack: str) -> dict[str, Any]:
    res = pulumi_cli.run("config", "--json", "--show-secrets", "--stack", stack)
    if res.code != 0:
        raise Refused(f"cannot read the config of stack {stack}: {res.output.strip().splitlines()[-1:]}")
    return {k: v.get("value") for k, v in json.loads(res.output).items() if isinstance(v, dict)}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.destroy_check", description=__doc__.splitlines()[0])
    p.add_argument("--stack", required=True)
    a = p.parse_args(argv)
    try:
        state = json.loads(pulumi_cli.export(a.stack))
        check(a.stack, state, pulumi_stack_config(a.stack), os.environ)
    except (Refused, RuntimeError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
