"""The running emulator: its state and how one Dokploy procedure call is resolved and executed."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from dokploy_local.context import Context, Principal
from dokploy_local.deploy_queue import DeployQueue, cancel_interrupted
from dokploy_local.errors import TrpcError
from dokploy_local.knobs import KnobState
from dokploy_local.procedures import ADMIN_ONLY, EMULATED_PROCEDURES, HANDLERS
from dokploy_local.procedures.user import key_hash
from dokploy_local.request_log import RequestLog
from dokploy_local.store import Store
from dokploy_local.validation import parse_input

# `@dokploy/trpc-openapi` matches `^/<router>.<procedure>$` case-insensitively, the dot left unescaped, in one
# table per HTTP method: GET on a mutation finds nothing and answers 404, like an unknown procedure.
_ROUTES: dict[str, list[tuple[re.Pattern[str], str]]] = {"GET": [], "POST": []}
for _name, _kind in EMULATED_PROCEDURES.items():
    _ROUTES["GET" if _kind == "query" else "POST"].append((re.compile(f"^/{_name}$", re.IGNORECASE), _name))


def resolve(method: str, api_path: str) -> str | None:
    """The procedure for `method` and the path after `/api` (Next.js decodes each segment)."""
    segments = [unquote(s) for s in api_path.strip("/").split("/")]
    normalized = "/" + "/".join(segments)
    for pattern, name in _ROUTES.get(method, []):
        if pattern.match(normalized):
            return name
    return None


def kind_of(procedure: str | None) -> str | None:
    if procedure is None:
        return None
    return "read" if EMULATED_PROCEDURES[procedure] == "query" else "write"


class App:
    def __init__(self, data_dir: Path, api_key: str, knobs: dict[str, Any] | None = None) -> None:
        self.data_dir = data_dir
        self.api_key = api_key
        self.store = Store(data_dir)
        self.cancelled_at_start = cancel_interrupted(self.store)
        self.knobs = KnobState(knobs)
        self.deploys = DeployQueue(self.store, self.knobs)
        self.log = RequestLog()
        self.stopping = threading.Event()

    def close(self) -> None:
        self.stopping.set()
        self.deploys.stop()
        self.store.close()

    def authenticate(self, key: str | None) -> Principal | None:
        if not key:
            return None
        if key == self.api_key or self.store.api_key_by_hash(key_hash(key)) is not None:
            return Principal("owner")  # keys from `user.createApiKey` belong to the owner who made them
        projects = self.store.member_projects(key)
        return Principal("member", tuple(projects)) if projects is not None else None

    def call(self, procedure: str, principal: Principal, raw_input: dict[str, Any]) -> Any:
        """Run one procedure as tRPC does: auth middleware, then input validation, then the handler."""
        if procedure in ADMIN_ONLY and principal.is_member:
            # `withPermission(<router>, ...)`: better-auth's refusal, before the input is validated (v0.30.2)
            raise TrpcError("UNAUTHORIZED", f'unauthorized to access resource "{procedure.split(".")[0]}"')
        data = parse_input(procedure, raw_input)
        ctx = Context(store=self.store, principal=principal, deploys=self.deploys, knobs=self.knobs)
        return HANDLERS[procedure](ctx, data)

    def counts(self) -> dict[str, int]:
        tables = ("project", "environment", "compose", "domain", "deployment", "registry")
        out = {f"{table}s" if table != "registry" else "registries": self.store.count(table) for table in tables}
        queue = self.deploys.snapshot()
        out.update(member_keys=len(self.store.member_keys()), queued_jobs=len(queue["pending"]))
        out["running_jobs"] = len(queue["running"])
        return out
