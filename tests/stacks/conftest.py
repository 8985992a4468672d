"""Fixtures for the stack tests: a fresh local Dokploy server per test and the session's OpenBao."""

from tests.support.dokploy import dokploy_server  # noqa: F401
from tests.support.openbao import openbao, running_openbao  # noqa: F401
