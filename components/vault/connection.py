"""Where Vault is and how to log in: address and non-secret settings from config, credentials from env.

`VaultConnection` holds plain strings only. It travels inside dynamic resources' inputs (and so in the
state), which is why it never carries a credential: tokens, AppRole secret ids and JWTs are read from
the environment at call time, in the process that makes the call.

Environment (read at call time; the gocloud `hashivault` secrets provider reads the first two too):
  VAULT_SERVER_URL / VAULT_ADDR          address when the connection names none
  VAULT_SERVER_TOKEN / VAULT_TOKEN       token auth; VAULT_TOKEN_FILE: a file holding the token
  VAULT_ROLE_ID + VAULT_SECRET_ID[_FILE] AppRole auth
  VAULT_JWT[_FILE], VAULT_JWT_ROLE       JWT auth; in GitHub Actions the OIDC token is fetched when
                                         ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are set (id-token: write)
  VAULT_AUTH_METHOD                      token | approle | jwt (default: the first whose credential is set)
  VAULT_CACERT, VAULT_SKIP_VERIFY        TLS: verified unless VAULT_SKIP_VERIFY=true is set explicitly
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import httpx

from components.vault.errors import VaultAuthError, VaultConfigError

AUTH_METHODS = ("token", "approle", "jwt")
DEFAULT_JWT_AUDIENCE = "finance-report-vault"
_TRUE = ("1", "true", "yes")


@dataclass(frozen=True)
class VaultConnection:
    address: str | None = None  # None: VAULT_SERVER_URL / VAULT_ADDR at call time
    auth_method: str | None = None  # None: VAULT_AUTH_METHOD, else inferred from which credential is set
    auth_mount: str | None = None  # default: "approle" / "jwt"
    role: str | None = None  # JWT role name (VAULT_JWT_ROLE otherwise)
    jwt_audience: str | None = None  # audience asked of GitHub's OIDC endpoint
    skip_verify: bool = False  # TLS; only ever turned off explicitly
    ca_cert: str | None = None
    timeout: float = 15.0

    def __post_init__(self) -> None:
        if self.auth_method is not None and self.auth_method not in AUTH_METHODS:
            raise VaultConfigError(f"vault auth method {self.auth_method!r} is not one of {', '.join(AUTH_METHODS)}")
        if self.address is not None and not self.address.startswith(("http://", "https://")):
            raise VaultConfigError(f"vault address {self.address!r} must start with http:// or https://")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> VaultConnection:
        """From a `vault:*` config namespace (keys without prefix): address, authMethod, authMount, role,
        jwtAudience, skipVerify, caCert."""
        skip = str(config.get("skipVerify") or "").strip().lower()
        return cls(
            address=_opt(config.get("address")),
            auth_method=_opt(config.get("authMethod")),
            auth_mount=_opt(config.get("authMount")),
            role=_opt(config.get("role")),
            jwt_audience=_opt(config.get("jwtAudience")),
            skip_verify=skip in _TRUE,
            ca_cert=_opt(config.get("caCert")),
        )

    def to_inputs(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_inputs(cls, raw: Mapping[str, Any] | None) -> VaultConnection:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (raw or {}).items() if k in names})


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _env_or_file(environ: Mapping[str, str], name: str) -> str | None:
    if environ.get(name):
        return environ[name].strip()
    path = environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip() or None
        except OSError:
            raise VaultConfigError(f"{name}_FILE={path} cannot be read") from None
    return None


@dataclass(frozen=True)
class Resolved:
    """A connection with its address and credential resolved. Never logged or pickled."""

    address: str
    verify: bool | str
    method: str
    mount: str
    credential: str  # token, AppRole secret_id or JWT
    role: str  # AppRole role_id or JWT role
    timeout: float

    def __repr__(self) -> str:  # keep credentials out of tracebacks and debug output
        return f"Resolved(address={self.address!r}, method={self.method!r}, role={self.role!r})"


def endpoint(conn: VaultConnection | None = None, environ: Mapping[str, str] | None = None) -> tuple[str, bool | str]:
    """(address, TLS verify) without any credential: enough to use a token one already holds."""
    conn = conn or VaultConnection()
    env = os.environ if environ is None else environ
    address = conn.address or env.get("VAULT_SERVER_URL") or env.get("VAULT_ADDR")
    if not address:
        raise VaultConfigError("no Vault address: set vault:address in the stack config or VAULT_ADDR")
    verify: bool | str = True
    if conn.skip_verify or env.get("VAULT_SKIP_VERIFY", "").strip().lower() in _TRUE:
        verify = False
    elif conn.ca_cert or env.get("VAULT_CACERT"):
        verify = str(conn.ca_cert or env.get("VAULT_CACERT"))
    return address.rstrip("/"), verify


def resolve(conn: VaultConnection | None = None, environ: Mapping[str, str] | None = None) -> Resolved:
    conn = conn or VaultConnection()
    env = os.environ if environ is None else environ
    address, verify = endpoint(conn, env)

    token = env.get("VAULT_SERVER_TOKEN") or _env_or_file(env, "VAULT_TOKEN")
    role_id = env.get("VAULT_ROLE_ID")
    jwt_role = conn.role or env.get("VAULT_JWT_ROLE")
    method = conn.auth_method or env.get("VAULT_AUTH_METHOD") or None
    if method is None:
        method = "token" if token else "approle" if role_id else "jwt" if jwt_role else None
    if method is None:
        raise VaultConfigError(
            f"no Vault credentials for {address}: set VAULT_TOKEN (or VAULT_TOKEN_FILE), "
            "VAULT_ROLE_ID+VAULT_SECRET_ID, or a JWT role (VAULT_JWT_ROLE) with VAULT_JWT or GitHub OIDC"
        )
    if method not in AUTH_METHODS:
        raise VaultConfigError(f"VAULT_AUTH_METHOD={method!r} is not one of {', '.join(AUTH_METHODS)}")
    if method == "token":
        if not token:
            raise VaultConfigError(f"Vault auth method token at {address}: set VAULT_TOKEN or VAULT_TOKEN_FILE")
        return Resolved(address, verify, method, "token", token, "", conn.timeout)
    if method == "approle":
        secret_id = _env_or_file(env, "VAULT_SECRET_ID")
        if not role_id or not secret_id:
            raise VaultConfigError(f"Vault AppRole auth at {address}: set VAULT_ROLE_ID and VAULT_SECRET_ID")
        return Resolved(address, verify, method, conn.auth_mount or "approle", secret_id, role_id, conn.timeout)
    if not jwt_role:
        raise VaultConfigError(f"Vault JWT auth at {address}: set vault:role or VAULT_JWT_ROLE")
    jwt = _env_or_file(env, "VAULT_JWT") or _github_oidc_token(env, conn.jwt_audience or DEFAULT_JWT_AUDIENCE)
    return Resolved(address, verify, method, conn.auth_mount or "jwt", jwt, jwt_role, conn.timeout)


def _github_oidc_token(env: Mapping[str, str], audience: str) -> str:
    url, bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_URL"), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise VaultConfigError(
            "Vault JWT auth: set VAULT_JWT (or VAULT_JWT_FILE), or run in GitHub Actions with `id-token: write`"
        )
    try:
        r = httpx.get(url, params={"audience": audience}, headers={"Authorization": f"Bearer {bearer}"}, timeout=15)
        r.raise_for_status()
        return str(r.json()["value"])
    except (httpx.HTTPError, KeyError, ValueError):
        raise VaultAuthError("could not fetch the GitHub Actions OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL)") from None


# One login per credential and process: dynamic providers call Vault from many methods, and each JWT or
# AppRole login would otherwise mint a fresh token.
_LOGINS: dict[str, tuple[str, float]] = {}
_LOGINS_LOCK = threading.Lock()


def cached_login_key(r: Resolved) -> str:
    material = "\0".join((r.address, r.method, r.mount, r.role, r.credential))
    return hashlib.sha256(material.encode()).hexdigest()


def remember_login(r: Resolved, token: str, ttl_seconds: int) -> None:
    # Reuse only while comfortably inside the TTL.
    with _LOGINS_LOCK:
        _LOGINS[cached_login_key(r)] = (token, time.monotonic() + max(ttl_seconds * 0.5, 0))


def recall_login(r: Resolved) -> str | None:
    with _LOGINS_LOCK:
        hit = _LOGINS.get(cached_login_key(r))
    if hit and hit[1] > time.monotonic():
        return hit[0]
    return None


def forget_logins() -> None:
    with _LOGINS_LOCK:
        _LOGINS.clear()
