"""`VaultSecrets`: one environment's KV secrets (ensured) and its services' tokens (minted).

The FinanceReport component builds one and puts `agent_env[service]` into that service's Dokploy env.
For staging, production and local (`AgentAuth.HOST_FILE`) that is empty: their vault-agents log in with
AppRole secret_ids the admin issued onto the Dokploy host, so no credential is minted here, none is in the
state, none in Dokploy. A `pr-<N>` stack mints one token per service, reaching only its own PR's paths,
and its env holds it as `VAULT_APP_TOKEN` (a Pulumi secret). It reads nothing from config itself: the
environment model and the connection come in as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.compose.vault_agent import VAULT_TOKEN_KEY
from components.environment import AgentAuth, Environment
from components.vault.authority import entity_alias, service_policy, token_role
from components.vault.connection import VaultConnection
from components.vault.ensure import references
from components.vault.keys import Endpoints, KeyClass, ServiceSecrets, secret_layout
from components.vault.resources import KvSecret, ServiceToken


@dataclass(frozen=True)
class VaultSecretsArgs:
    env: Environment
    connection: VaultConnection = field(default_factory=VaultConnection)
    # Change to rotate a PR's tokens: one value for every service, or per service ({"app": "2026-07"}).
    # (Staging, production and local mint none: rotate their host secret_ids with the bootstrap.)
    rotation: pulumi.Input[str] | Mapping[str, pulumi.Input[str]] = ""
    # Host names and endpoints the derived URLs embed; the compose decides them (defaults: keys.py).
    endpoints: Endpoints | None = None
    # Purge the KV secrets on destroy. Default: when the environment's data volumes go too (pr-<N>, local);
    # staging and production keep them, as they keep their databases.
    purge_on_delete: bool | None = None
    # Overrides for tests only; normally secret_layout(env, endpoints).
    layout: tuple[ServiceSecrets, ...] | None = None


class VaultSecrets(pulumi.ComponentResource):
    tokens: dict[str, pulumi.Output[str]]  # service -> VAULT_APP_TOKEN (secret); DOKPLOY_ENV only
    agent_env: dict[str, dict[str, pulumi.Output[str]]]  # service -> what its compose's Dokploy env holds
    token_accessors: dict[str, pulumi.Output[str]]
    paths: dict[str, str]  # service -> KV path under the mount
    secrets: dict[str, KvSecret]

    def __init__(self, name: str, args: VaultSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("finance-report:vault:VaultSecrets", name, None, opts)
        env = args.env
        layout = args.layout or secret_layout(env, args.endpoints)
        purge = env.delete_volumes_on_destroy if args.purge_on_delete is None else args.purge_on_delete
        child = pulumi.ResourceOptions(parent=self)
        self.secrets, self.tokens, self.token_accessors, self.paths = {}, {}, {}, {}
        self.agent_env = {spec.service: {} for spec in layout}

        for spec in _sources_first(layout):
            # Derived keys read other services' secrets at apply time: create those first.
            deps = [self.secrets[s] for s in _sources_of(spec) if s in self.secrets]
            self.secrets[spec.service] = KvSecret(
                f"{name}-{spec.service}-kv",
                connection=args.connection,
                mount=env.vault_mount,
                prefix=env.vault_prefix,
                spec=spec,
                purge_on_delete=purge,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=deps)),
            )
            self.paths[spec.service] = spec.path

        for spec in layout if env.agent_auth is AgentAuth.DOKPLOY_ENV else ():
            rotation = args.rotation.get(spec.service, "") if isinstance(args.rotation, Mapping) else args.rotation
            token = ServiceToken(
                f"{name}-{spec.service}-token",
                connection=args.connection,
                role=token_role(env.name, spec.service),
                policies=[service_policy(env.name, spec.service)],
                env=env.name,
                service=spec.service,
                display_name=f"finance_report-{env.name}-{spec.service}",
                rotation=rotation,
                entity_alias=entity_alias(env.name),
                # Minted once its secret exists, so the agent never starts on an empty path.
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[self.secrets[spec.service]])
                ),
            )
            self.tokens[spec.service] = pulumi.Output.secret(token.token)
            self.token_accessors[spec.service] = token.accessor
            self.agent_env[spec.service] = {VAULT_TOKEN_KEY: self.tokens[spec.service]}

        self.register_outputs({"paths": self.paths, "token_accessors": self.token_accessors})


def _sources_of(spec: ServiceSecrets) -> set[str]:
    return {svc for k in spec.keys if k.cls is KeyClass.DERIVED for svc, _ in references(k.template)} - {spec.service}


def _sources_first(layout: tuple[ServiceSecrets, ...]) -> list[ServiceSecrets]:
    """Order secrets so every derived key's sources are registered before it (no cycles in keys.py)."""
    done: list[ServiceSecrets] = []
    pending = list(layout)
    while pending:
        ready = [s for s in pending if _sources_of(s) <= {d.service for d in done}]
        if not ready:
            raise ValueError(f"cyclic derived keys among {[s.service for s in pending]}")
        done.extend(ready)
        pending = [s for s in pending if s not in ready]
    return done
