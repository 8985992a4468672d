"""ComposeDeployment: one successful deploy of a compose, as its own resource.

Its inputs are the compose id and a hash of what runs (compose file, env, source, the compose's domains),
so ordering between services is a plain dependency, a description change does not redeploy, and a failed
deploy fails only this resource: the Compose stays in state and the next `up` deploys again (the failed
create is not recorded, or the failed update keeps the old hash).

A refresh marks the deployment stale (`current: false`) when it is no longer the newest, successful
deployment of its compose (someone deployed by hand, or the stack was redeployed elsewhere); the next
`up` then deploys again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from components.dokploy.base import DokployProvider, Props, failures_for, is_unknown, resource_marker, with_outputs
from components.dokploy.compose import Compose
from components.dokploy.deploy import DEFAULT_TIMEOUT_SECONDS, deploy_and_wait, deployments
from components.dokploy.domain import Domain
from components.dokploy.errors import DokployError, DokployNotFoundError

RUN_FIELDS = ("compose_id", "run_hash")


class ComposeDeploymentProvider(DokployProvider):
    def check(self, _olds: Props, news: Props) -> CheckResult:
        n = dict(news)
        errors = {}
        n["timeout_seconds"] = n.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS
        if not is_unknown(n["timeout_seconds"]):
            try:
                n["timeout_seconds"] = int(n["timeout_seconds"])
                if n["timeout_seconds"] < 1:
                    raise ValueError
            except (TypeError, ValueError):
                errors["timeout_seconds"] = "timeout_seconds must be a positive number of seconds"
        if not n.get("run_hash"):
            errors["run_hash"] = "run_hash is required: a hash of what the deploy runs"
        return CheckResult(n, failures_for(errors))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        changed = [f for f in (*RUN_FIELDS, "timeout_seconds") if olds.get(f) != news.get(f)]
        if olds.get("current") is False:
            changed.append("current")
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: Props) -> CreateResult:
        with self.client() as c:
            row = _adopt(c, props) if props.get("adopt_id") else _deploy(c, props)
            return CreateResult(f"deploy-{props['marker']}", _outputs(row, props, current=True))

    def read(self, id_: str, props: Props) -> ReadResult:
        with self.client() as c:
            rows = deployments(c, props["compose_id"])
            if not rows:  # an unknown compose also lists none: only then is one more read needed to tell
                try:
                    c.query("compose.one", composeId=props["compose_id"])
                except DokployNotFoundError:
                    return ReadResult("", {})  # the compose and its deployments are gone
            ours = next((r for r in rows if str(r["deploymentId"]) == props.get("deployment_id")), None)
            current = bool(rows) and ours is not None and rows[0] is ours and ours.get("status") == "done"
            row = ours or {
                "deploymentId": props.get("deployment_id"),
                "status": "unknown",
                "logPath": props.get("log_path"),
            }
            return ReadResult(id_, _outputs(row, props, current=current))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        rerun = any(olds.get(f) != news.get(f) for f in RUN_FIELDS) or olds.get("current") is False
        if not rerun:  # only the deadline changed: nothing to do in Dokploy
            return UpdateResult({**olds, "timeout_seconds": news["timeout_seconds"]})
        with self.client() as c:
            return UpdateResult(_outputs(_deploy(c, news), news, current=True))

    def delete(self, _id: str, _props: Props) -> None:
        # A deployment is history: Dokploy removes it with its compose. Nothing to undo here.
        return None


def _deploy(c: Any, props: Props) -> dict[str, Any]:
    require_domains(c, props["compose_id"], props.get("domain_ids") or [])
    return deploy_and_wait(
        c,
        props["compose_id"],
        marker=props["marker"],
        run_hash=props["run_hash"],
        timeout_seconds=float(props["timeout_seconds"]),
    )


def require_domains(c: Any, compose_id: str, domain_ids: Sequence[str]) -> None:
    """Every domain the compose should have is on it before it deploys: a service deployed without its domain can
    get a Traefik config that breaks routing for every other app on the server (field report, issue 15)."""
    if not domain_ids:
        return
    present = {str(d.get("domainId")) for d in c.query("domain.byComposeId", composeId=compose_id) or []}
    missing = sorted(set(domain_ids) - present)
    if missing:
        raise DokployError(
            f"compose {compose_id} is not deployed: its domain(s) {', '.join(missing)} are not on it yet (a service "
            "deployed without its domain can break Traefik routing for every app); run `pulumi up` again",
            procedure="domain.byComposeId",
        )


def _adopt(c: Any, props: Props) -> dict[str, Any]:
    rows = deployments(c, props["compose_id"])
    row = next((r for r in rows if str(r["deploymentId"]) == props["adopt_id"]), None)
    if row is None or row.get("status") != "done":
        state = "not found among the compose's deployments" if row is None else f"'{row.get('status')}'"
        raise DokployError(
            f"deployment {props['adopt_id']} of compose {props['compose_id']} cannot be adopted: {state}; "
            "adopt a successful (done) deployment or drop adopt_id to deploy",
            procedure="deployment.allByCompose",
        )
    return row


def _outputs(row: dict[str, Any], props: Props, *, current: bool) -> Props:
    return {
        "deployment_id": row.get("deploymentId"),
        "status": row.get("status"),
        "log_path": row.get("logPath"),
        "compose_id": props["compose_id"],
        "run_hash": props["run_hash"],
        "timeout_seconds": props["timeout_seconds"],
        "marker": props["marker"],
        "adopt_id": props.get("adopt_id"),
        "domain_ids": props.get("domain_ids") or [],
        "current": current,
    }


def combined_run_hash(compose_hash: str, domain_hashes: Sequence[str]) -> str:
    joined = "\n".join([compose_hash, *sorted(domain_hashes)])
    return hashlib.sha256(joined.encode()).hexdigest()


class ComposeDeployment(Resource, module="dokploy", name="ComposeDeployment"):
    """A deploy of a compose, waited for until `done` (deadline `timeout_seconds`, default 15 min).

    Outputs: deployment_id, status, log_path, compose_id, run_hash, timeout_seconds, current.
    Use `ComposeDeployment.of(name, compose, domains)` to derive the run hash from the resources.
    """

    deployment_id: pulumi.Output[str]
    status: pulumi.Output[str]
    log_path: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        compose_id: pulumi.Input[str],
        run_hash: pulumi.Input[str],
        timeout_seconds: pulumi.Input[int] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        domain_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "compose_id": compose_id,
            "run_hash": run_hash,
            "domain_ids": domain_ids or [],
            "timeout_seconds": timeout_seconds,
            "adopt_id": adopt_id,
            "marker": resource_marker("ComposeDeployment", resource_name),
        }
        super().__init__(
            ComposeDeploymentProvider(),
            resource_name,
            with_outputs(props, ("deployment_id", "status", "log_path", "current")),
            opts,
        )

    @classmethod
    def of(
        cls,
        resource_name: str,
        compose: Compose,
        domains: Sequence[Domain] = (),
        *,
        timeout_seconds: pulumi.Input[int] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> ComposeDeployment:
        """Deploy `compose` once its domains exist (ordered by dependency, then checked on the server before the
        deploy); redeploy when the compose's run or a domain changes."""
        run_hash = pulumi.Output.all(compose.run_hash, *[d.run_hash for d in domains]).apply(
            lambda hashes: combined_run_hash(hashes[0], hashes[1:])
        )
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[compose, *domains]))
        return cls(
            resource_name,
            compose_id=compose.id,  # known in previews of an update, unlike outputs
            run_hash=run_hash,
            timeout_seconds=timeout_seconds,
            adopt_id=adopt_id,
            domain_ids=[d.id for d in domains],  # checked on the server before deploying, not only ordered
            opts=opts,
        )
