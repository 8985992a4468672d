"""A Dokploy domain on a compose service.

Domains have no name or description, so the marker is the natural key inside the (marked) compose: host
and path. A compose domain only takes effect on the compose's next deploy (Traefik labels are injected at
deploy time), which is why `run_hash` feeds ComposeDeployment. `domain.update` cannot move a domain to
another service, so a new `compose_id` replaces it.

Dokploy does not enforce its own cross-field rules here (https needs a certificate type, stripPath needs a
path), so `check` does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from components.dokploy.base import (
    DokployProvider,
    Parent,
    Props,
    adopt_or_locate,
    adopt_replacement,
    failures_for,
    field_diff,
    is_unknown,
    missing_as_not_found,
    read_or_gone,
    with_outputs,
)
from components.dokploy.client import DokployClient
from components.dokploy.errors import DokployNotFoundError

# Dokploy's RFC-1123 check (packages/server/src/utils/hostname-validation.ts): labels of letters, digits, '-'.
_HOST = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
CERTIFICATE_TYPES = ("none", "letsencrypt", "custom")
FIELDS = (
    "compose_id",
    "host",
    "path",
    "port",
    "service_name",
    "https",
    "certificate_type",
    "custom_cert_resolver",
    "internal_path",
    "strip_path",
)
REPLACE = ("compose_id",)
PARENT = Parent(kind="compose", field="composeId", prop="compose_id", hint=False)
RUN_FIELDS = FIELDS[1:]


class DomainProvider(DokployProvider):
    def check(self, _olds: Props, news: Props) -> CheckResult:
        n = dict(news)
        errors: dict[str, str] = {}
        n["host"] = n["host"].strip().lower() if isinstance(n.get("host"), str) else n.get("host")
        n["path"] = n.get("path") or "/"
        n["internal_path"] = n.get("internal_path") or "/"
        for flag in ("https", "strip_path"):
            n[flag] = n.get(flag) if is_unknown(n.get(flag)) else bool(n.get(flag))
        if not n.get("certificate_type") and not is_unknown(n["https"]):
            n["certificate_type"] = "letsencrypt" if n["https"] else "none"
        n["custom_cert_resolver"] = n.get("custom_cert_resolver") or None
        known = {k for k, v in n.items() if not is_unknown(v)}  # unknown values are checked once known
        if "host" in known and not (isinstance(n["host"], str) and _HOST.match(n["host"])):
            errors["host"] = f"{n['host']!r} is not a host name (letters, digits, '-' and dots; no scheme or path)"
        if "port" in known:
            try:
                n["port"] = int(n.get("port"))  # type: ignore[arg-type]
                if not 1 <= n["port"] <= 65535:
                    raise ValueError
            except (TypeError, ValueError):
                errors["port"] = "port must be the container port, 1-65535"
        if not n.get("service_name"):
            errors["service_name"] = "a compose domain needs service_name: the service key in the compose file"
        if {"https", "certificate_type", "custom_cert_resolver"} <= known:
            if n["certificate_type"] not in CERTIFICATE_TYPES:
                errors["certificate_type"] = f"certificate_type must be one of {', '.join(CERTIFICATE_TYPES)}"
            elif n["https"] and n["certificate_type"] == "none":
                errors["certificate_type"] = "https needs certificate_type letsencrypt or custom"
            elif n["certificate_type"] == "custom" and not n["custom_cert_resolver"]:
                errors["custom_cert_resolver"] = "certificate_type custom needs custom_cert_resolver"
        if {"strip_path", "path"} <= known and n["strip_path"] and n["path"] == "/":
            errors["strip_path"] = "strip_path needs a path other than '/'"
        return CheckResult(n, failures_for(errors))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        return adopt_replacement(_id, news) or field_diff(olds, news, FIELDS, REPLACE)

    def create(self, props: Props) -> CreateResult:
        with self.client() as c:
            row, created = adopt_or_locate(
                c,
                props,
                kind="domain",
                one=_one,
                parent=PARENT,
                find=lambda: [
                    d
                    for d in c.query("domain.byComposeId", composeId=props["compose_id"]) or []
                    if d.get("host") == props["host"] and (d.get("path") or "/") == props["path"]
                ],
                create=lambda: c.mutate("domain.create", _create_body(props), repeat_safe=False),
                ident=lambda d: f"{d['domainId']} ({d.get('host')}{d.get('path') or ''})",
            )
            did = str(row["domainId"])
            if not created:  # adopted: bring every field to the declared value
                _update(c, did, props)
            return CreateResult(did, _outputs(_one(c, did), props))

    def read(self, id_: str, props: Props) -> ReadResult:
        with self.client() as c:
            return read_or_gone(c, id_, props, one=_one, outputs=_outputs)

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        with self.client() as c:
            _update(c, id_, news)
            return UpdateResult(_outputs(_one(c, id_), news))

    def delete(self, id_: str, _props: Props) -> None:
        with self.client() as c, contextlib.suppress(DokployNotFoundError):
            c.mutate("domain.delete", {"domainId": id_}, repeat_safe=True)


def _one(c: DokployClient, domain_id: str) -> dict[str, Any]:
    return dict(c.query("domain.one", domainId=domain_id))


def _common(props: Props) -> dict[str, Any]:
    return {
        "host": props["host"],
        "path": props["path"],
        "port": props["port"],
        "serviceName": props["service_name"],
        "https": props["https"],
        "certificateType": props["certificate_type"],
        "customCertResolver": props.get("custom_cert_resolver"),
        "internalPath": props["internal_path"],
        "stripPath": props["strip_path"],
        "domainType": "compose",
    }


def _create_body(props: Props) -> dict[str, Any]:
    return {**_common(props), "composeId": props["compose_id"]}


def _update_body(domain_id: str, props: Props) -> dict[str, Any]:
    return {**_common(props), "domainId": domain_id}


def _update(c: DokployClient, domain_id: str, props: Props) -> None:
    missing = f"domain {domain_id} no longer exists; run `pulumi refresh` so it is recreated"
    with missing_as_not_found(missing, procedure="domain.update"):
        c.mutate("domain.update", _update_body(domain_id, props), repeat_safe=True)


def _outputs(row: dict[str, Any], props: Props) -> Props:
    port = row.get("port")
    return {
        "domain_id": row.get("domainId"),
        "compose_id": row.get("composeId"),
        "host": row.get("host"),
        "path": row.get("path") or "/",
        "port": int(port) if port is not None else None,
        "service_name": row.get("serviceName"),
        "https": bool(row.get("https")),
        "certificate_type": row.get("certificateType") or "none",
        "custom_cert_resolver": row.get("customCertResolver") or None,
        "internal_path": row.get("internalPath") or "/",
        "strip_path": bool(row.get("stripPath")),
        "adopt_id": props.get("adopt_id"),
    }


def domain_run_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({k: values.get(k) for k in RUN_FIELDS}, sort_keys=True).encode()).hexdigest()


class Domain(Resource, module="dokploy", name="Domain"):
    """A domain routed to one service of a compose.

    Outputs: domain_id, compose_id, host, path, port, service_name, https, certificate_type,
    custom_cert_resolver, internal_path, strip_path. `run_hash` (program-side) feeds ComposeDeployment.
    """

    host: pulumi.Output[str]
    run_hash: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        compose_id: pulumi.Input[str],
        host: pulumi.Input[str],
        port: pulumi.Input[int],
        service_name: pulumi.Input[str],
        path: pulumi.Input[str] = "/",
        https: pulumi.Input[bool] = False,
        certificate_type: pulumi.Input[str] | None = None,
        custom_cert_resolver: pulumi.Input[str] | None = None,
        internal_path: pulumi.Input[str] = "/",
        strip_path: pulumi.Input[bool] = False,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "compose_id": compose_id,
            "host": host,
            "port": port,
            "service_name": service_name,
            "path": path,
            "https": https,
            "certificate_type": certificate_type,
            "custom_cert_resolver": custom_cert_resolver,
            "internal_path": internal_path,
            "strip_path": strip_path,
            "adopt_id": adopt_id,
        }
        super().__init__(DomainProvider(), resource_name, with_outputs(props, ()), opts)
        self.run_hash = pulumi.Output.all(
            host, path, port, service_name, https, certificate_type, custom_cert_resolver, internal_path, strip_path
        ).apply(lambda a: domain_run_hash(dict(zip(RUN_FIELDS, a, strict=True))))

    @property
    def domain_id(self) -> pulumi.Output[str]:
        """The Dokploy id: the resource id, which stays known in previews (outputs of an update do not)."""
        return self.id
