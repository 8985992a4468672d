"""Which Dokploy the contract suite runs against, and the one scratch project it works in.

By default the suite starts the imitation (`dokploy_local`) itself. Given `CONTRACT_DOKPLOY_URL` and
`CONTRACT_DOKPLOY_API_KEY` (what `make contract DOKPLOY_URL=... DOKPLOY_API_KEY=...` sets) it runs against that
server instead; `CONTRACT_DOKPLOY_MEMBER_KEY` optionally adds a second identity, a member's key without access
to the scratch project. The variables are not the provider's `DOKPLOY_URL`/`DOKPLOY_API_KEY`, so `make test`
never reaches a real server because a shell happens to export those.

Everything happens inside one project, `contract-<random>`, created at the start and removed at the end; no
other object on the server is read for its content, changed or removed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from dokploy_local.testing import LocalDokploy

ENV_URL, ENV_KEY, ENV_MEMBER_KEY = "CONTRACT_DOKPLOY_URL", "CONTRACT_DOKPLOY_API_KEY", "CONTRACT_DOKPLOY_MEMBER_KEY"
IMITATION_MEMBER_KEY = "contract-member-key"  # a member of the imitation with access to no project
NEEDS_IMITATION = "needs the imitation's control API (knobs, member keys with project lists, object counts)"
NEEDS_MEMBER_KEY = f"needs a member's API key: set {ENV_MEMBER_KEY} (make contract DOKPLOY_MEMBER_KEY=...)"


@dataclass
class Target:
    url: str
    key: str = field(repr=False)
    member_key: str | None = field(default=None, repr=False)
    imitation: LocalDokploy | None = None  # set when the suite started the imitation itself

    @property
    def name(self) -> str:
        return "the imitation (dokploy_local)" if self.imitation else self.url


def remote_target(environ: dict[str, str] | None = None) -> Target | None:
    """The real server named by the environment, or None to run against the imitation."""
    env = dict(os.environ if environ is None else environ)
    url, key = env.get(ENV_URL, "").strip().rstrip("/"), env.get(ENV_KEY, "").strip()
    if not url and not key:
        return None
    if not url or not key:
        raise SystemExit(f"contract suite: set both {ENV_URL} and {ENV_KEY} (or neither, to use the imitation)")
    return Target(url=url, key=key, member_key=env.get(ENV_MEMBER_KEY, "").strip() or None)


def scratch_name() -> str:
    return f"contract-{secrets.token_hex(4)}"


SCRATCH_DESCRIPTION = "scratch project of finance-report's contract suite (tests/contract); removed when it ends"


def scratch_row(created: dict[str, Any]) -> dict[str, Any]:
    project: dict[str, Any] = created["project"]
    return project
