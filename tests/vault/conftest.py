"""Fixtures for the Vault tests: one real OpenBao per session, bootstrapped once like an admin would.

`authority` is that bootstrapped server: every group (staging, production, PR stacks, local) with JWT
roles trusting a fixture RSA key through `jwt_validation_pubkeys`, so tests can log in as each GitHub
Actions identity with a token they sign themselves.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hvac
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components.vault.authority import JWT_MOUNT, JWT_ROLES, REPOSITORY
from components.vault.client import VaultClient
from components.vault.connection import DEFAULT_JWT_AUDIENCE, VaultConnection, forget_logins
from ops.vault_bootstrap import BootstrapOptions, Change, JwtConfig, admit_pr, bootstrap, ensure_stack_token
from tests.support.leaks import Secret
from tests.support.openbao import OpenBao, openbao, running_openbao  # noqa: F401  (fixtures)

ISSUER = "https://token.actions.githubusercontent.com"
ALL_GROUPS = ("staging", "production", "preview", "local")
REPOSITORY_ID = "812345678"  # GitHub's numeric id of the repository, bound by every JWT role
ADMITTED_PRS = (7, 8, 9)  # the PRs the fixture admits, as the pull_request_target job would
# GitHub environment claim -> JWT role, as the workflows will use them (authority.JWT_ROLES)
ROLE_FOR_ENVIRONMENT = {
    "staging": "finance_report-staging",
    "production": "finance_report-production",
    "production-readonly": "finance_report-production-readonly",
    "pr-7": "finance_report-preview",
    "pr-reaper": "finance_report-pr-reaper",
    "pr-admission": "finance_report-pr-admission",
}


def job_claims(environment: str | None) -> dict[str, Any]:
    """The event, ref and ref type GitHub puts into the OIDC token of the job that uses `environment`."""
    if environment and environment.startswith("pr-") and environment[3:].isdigit():
        return {"event_name": "pull_request", "ref": f"refs/pull/{environment[3:]}/merge", "ref_type": "branch"}
    if environment in ("production", "production-readonly"):
        return {"event_name": "push", "ref": "refs/tags/v1.2.3", "ref_type": "tag"}
    if environment == "pr-reaper":
        return {"event_name": "schedule", "ref": "refs/heads/main", "ref_type": "branch"}
    if environment == "pr-admission":
        return {"event_name": "pull_request_target", "ref": "refs/heads/main", "ref_type": "branch"}
    return {"event_name": "push", "ref": "refs/heads/main", "ref_type": "branch"}


@dataclass(frozen=True)
class Signer:
    private_pem: bytes = field(repr=False)
    public_pem: str

    def sign(self, **claims: Any) -> str:
        now = int(time.time())
        env = claims.get("environment", "staging")
        body = {
            "iss": ISSUER,
            "aud": DEFAULT_JWT_AUDIENCE,
            "repository": REPOSITORY,
            "repository_id": REPOSITORY_ID,
            **job_claims(env),
            "environment": env,
            "sub": f"repo:{REPOSITORY}:environment:{env}",
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        body.update(claims)
        return pyjwt.encode({k: v for k, v in body.items() if v is not None}, self.private_pem, algorithm="RS256")


def new_signer() -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Signer(priv, pub.decode())


@pytest.fixture(scope="session")
def signer() -> Signer:
    return new_signer()


@dataclass
class Authority:
    bao: OpenBao
    signer: Signer = field(repr=False)
    changes: list[Change] = field(repr=False)
    options: BootstrapOptions
    local_token_file: Any
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)  # tracebacks show fixtures: no tokens

    @property
    def address(self) -> str:
        return self.bao.address

    def admin(self) -> hvac.Client:
        return self.bao.client()

    def admin_client(self) -> VaultClient:
        return VaultClient.connect(VaultConnection(address=self.address), {"VAULT_TOKEN": self.bao.root_token})

    def login(self, environment: str, role: str | None = None, **claims: Any) -> str:
        """Log in as the GitHub Actions identity of `environment` (raises hvac errors when refused)."""
        role = role or ROLE_FOR_ENVIRONMENT.get(environment, "finance_report-preview")
        token = self.signer.sign(environment=environment, **claims)
        resp = hvac.Client(url=self.address).auth.jwt.jwt_login(role=role, jwt=token, path=JWT_MOUNT)
        return Secret(resp["auth"]["client_token"])

    def identity(self, environment: str) -> str:
        """A cached login per identity (tokens live an hour; a session takes minutes)."""
        if environment not in self._tokens:
            self._tokens[environment] = self.login(environment)
        return self._tokens[environment]

    @property
    def local_token(self) -> str:
        return Secret(self.local_token_file.read_text().strip())

    def as_token(self, token: str) -> VaultClient:
        return VaultClient.for_token(token, VaultConnection(address=self.address))


def bootstrap_options(signer: Signer) -> BootstrapOptions:
    return BootstrapOptions(
        groups=ALL_GROUPS,
        repository_id=REPOSITORY_ID,
        jwt=JwtConfig(pubkeys=(signer.public_pem,), discovery_url=None),
    )


@pytest.fixture(scope="session")
def authority(openbao: OpenBao, signer: Signer) -> Iterator[Authority]:  # noqa: F811
    opts = bootstrap_options(signer)
    admin = VaultClient.connect(VaultConnection(address=openbao.address), {"VAULT_TOKEN": openbao.root_token})
    changes = bootstrap(admin, opts)
    token_file = openbao.data_dir / "stack-local.token"
    ensure_stack_token(admin, "local", token_file)
    for pr in ADMITTED_PRS:
        admit_pr(admin, pr)
    assert {r.name for r in JWT_ROLES} <= {c.name for c in changes if c.kind == "jwt role"}
    yield Authority(openbao, signer, changes, opts, token_file)
    forget_logins()
