"""Fixtures for the stack tests: a fresh local Dokploy server per test, the session's OpenBao, and `authority`:
that OpenBao bootstrapped like an admin would, with JWT logins as each GitHub Actions identity (tests/vault)."""

from tests.support.dokploy import dokploy_server  # noqa: F401
from tests.support.openbao import openbao, running_openbao  # noqa: F401
from tests.vault.conftest import authority, signer  # noqa: F401  (the bootstrapped OpenBao, GitHub-style logins)
