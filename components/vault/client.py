"""A small typed layer over hvac: log in, then the handful of calls the stacks and the bootstrap make.

Every call goes through `translated`, so callers only ever see one-line `VaultError`s naming the address
and the path. Values read or written are returned, never put into a message.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import hvac
import hvac.exceptions
import requests

from components.vault.connection import (
    Resolved,
    VaultConnection,
    endpoint,
    recall_login,
    remember_login,
    resolve,
)
from components.vault.errors import (
    VaultAuthError,
    VaultNotFound,
    VaultPermissionDenied,
    VaultUnreachable,
    sealed,
    translated,
)


def kv_display(mount: str, path: str) -> str:
    """How a KV v2 path is named in messages: `<mount>/<path>` (what `bao kv get` takes)."""
    return f"{mount}/{path}"


class VaultClient:
    def __init__(self, resolved: Resolved, hv: hvac.Client) -> None:
        self._resolved = resolved
        self.hv = hv

    def __repr__(self) -> str:
        return f"VaultClient({self.address})"

    @property
    def address(self) -> str:
        return self._resolved.address

    @classmethod
    def connect(cls, conn: VaultConnection | None = None, environ: Mapping[str, str] | None = None) -> VaultClient:
        """Resolve address and credential (config, then environment) and log in if the method needs it."""
        r = resolve(conn, environ)
        hv = hvac.Client(url=r.address, token="", verify=r.verify, timeout=int(r.timeout))
        client = cls(r, hv)
        if r.method == "token":
            hv.token = r.credential
        else:
            hv.token = recall_login(r) or client._login()
        return client

    @classmethod
    def for_token(
        cls, token: str, conn: VaultConnection | None = None, environ: Mapping[str, str] | None = None
    ) -> VaultClient:
        """A client acting as a token we already hold (a minted service token): no login, no other credential."""
        conn = conn or VaultConnection()
        address, verify = endpoint(conn, environ)
        res = Resolved(address, verify, "token", "token", token, "", conn.timeout)
        return cls(res, hvac.Client(url=address, token=token, verify=verify, timeout=int(conn.timeout)))

    def _login(self) -> str:
        r = self._resolved
        what = f"log in with {r.method} role {r.role if r.method == 'jwt' else '(role id)'} at auth/{r.mount}"
        try:
            with translated(r.address, what):
                if r.method == "approle":
                    resp = self.hv.auth.approle.login(role_id=r.role, secret_id=r.credential, mount_point=r.mount)
                else:
                    resp = self.hv.auth.jwt.jwt_login(role=r.role, jwt=r.credential, path=r.mount)
        except (VaultPermissionDenied, VaultNotFound) as exc:
            raise VaultAuthError(str(exc)) from None
        except VaultUnreachable:
            raise
        except Exception as exc:  # a refused login is a 400 from the jwt/approle backends
            raise VaultAuthError(
                str(exc) if str(exc).startswith("Vault at") else f"Vault at {r.address}: {what} failed"
            ) from None
        auth = resp["auth"]
        remember_login(r, auth["client_token"], int(auth.get("lease_duration") or 0))
        return str(auth["client_token"])

    def with_token(self, token: str) -> VaultClient:
        """The same server and TLS settings, another token (e.g. a minted service token)."""
        r = self._resolved
        res = Resolved(r.address, r.verify, "token", "token", token, "", r.timeout)
        return VaultClient(res, hvac.Client(url=r.address, token=token, verify=r.verify, timeout=int(r.timeout)))

    # --- server and identity -------------------------------------------------------------------
    def health(self) -> None:
        """Unreachable, uninitialised or sealed: one line naming the address."""
        with translated(self.address, "read sys/health"):
            resp = self.hv.adapter.get(
                "/v1/sys/health", raise_exception=False, params={"standbyok": "true", "perfstandbyok": "true"}
            )
        body = resp.json() if isinstance(resp, requests.Response) else resp
        if not body.get("initialized", False):
            raise VaultUnreachable(f"Vault at {self.address} is not initialised")
        if body.get("sealed", True):
            raise VaultUnreachable(sealed(self.address))

    def lookup_self(self) -> dict[str, Any]:
        with translated(self.address, "look up its own token (auth/token/lookup-self)"):
            try:
                return dict(self.hv.auth.token.lookup_self()["data"])
            except hvac.exceptions.Forbidden:
                raise VaultAuthError(f"Vault at {self.address}: the token is invalid, expired or revoked") from None

    def capabilities(self, paths: Iterable[str]) -> dict[str, set[str]]:
        paths = list(paths)
        with translated(self.address, "read sys/capabilities-self"):
            resp = self.hv.sys.get_capabilities(paths=paths)
        data = resp.get("data", resp)
        return {p: set(data.get(p, [])) for p in paths}

    # --- KV v2 ---------------------------------------------------------------------------------
    def kv_read(self, mount: str, path: str) -> tuple[dict[str, str] | None, int]:
        """(data, version); (None, 0) when the secret does not exist or its latest version is deleted."""
        with translated(self.address, f"read {kv_display(mount, path)}"):
            try:
                resp = self.hv.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=False
                )
            except hvac.exceptions.InvalidPath as exc:
                if "no handler for route" in str(exc):
                    raise VaultNotFound(
                        f"Vault at {self.address}: no KV mount {mount!r} (reading {kv_display(mount, path)}); "
                        "run the Vault bootstrap (make bootstrap-vault)"
                    ) from None
                return None, 0
        data = resp["data"]
        meta = data.get("metadata") or {}
        if data.get("data") is None or meta.get("deletion_time"):
            return None, int(meta.get("version") or 0)
        return {str(k): str(v) for k, v in data["data"].items()}, int(meta.get("version") or 0)

    def wait_kv_ready(self, mount: str, timeout: float = 30.0) -> None:
        """A freshly mounted KV v2 upgrades its storage first and refuses requests meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            with translated(self.address, f"probe KV mount {mount}"):
                resp = self.hv.adapter.get(f"/v1/{mount}/data/readiness-probe", raise_exception=False)
            status = getattr(resp, "status_code", 200)
            if status != 400 or time.monotonic() > deadline:
                return
            time.sleep(0.1)

    def kv_write(self, mount: str, path: str, data: Mapping[str, str], cas: int) -> int:
        """Write the whole secret with check-and-set on the version read, so a concurrent hand edit is not lost."""
        with translated(self.address, f"write {kv_display(mount, path)}"):
            resp = self.hv.secrets.kv.v2.create_or_update_secret(
                path=path, secret=dict(data), cas=cas, mount_point=mount
            )
        return int(resp["data"]["version"])

    def kv_exists(self, mount: str, path: str) -> bool:
        with translated(self.address, f"read metadata of {kv_display(mount, path)}"):
            try:
                self.hv.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)
            except hvac.exceptions.InvalidPath:
                return False
        return True

    def kv_purge(self, mount: str, path: str) -> None:
        """Delete every version and the metadata; a missing secret is fine."""
        with translated(self.address, f"delete {kv_display(mount, path)}"):
            try:
                self.hv.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)
            except hvac.exceptions.InvalidPath:
                return

    # --- tokens --------------------------------------------------------------------------------
    def create_token(self, role: str, **params: Any) -> dict[str, Any]:
        with translated(self.address, f"mint a token through auth/token/create/{role}"):
            resp = self.hv.write_data(f"auth/token/create/{role}", data=params)
        return dict(resp["auth"])

    def token_valid(self) -> dict[str, Any] | None:
        """lookup-self with this client's token: its data, or None once it is revoked or expired."""
        try:
            return self.lookup_self()
        except VaultAuthError:
            return None

    def revoke_self(self) -> bool:
        """Revoke this client's token; False when it was already invalid."""
        with translated(self.address, "revoke a token (auth/token/revoke-self)"):
            try:
                self.hv.auth.token.revoke_self()
            except hvac.exceptions.Forbidden:
                return False
        return True
