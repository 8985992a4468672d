"""Fixtures for the PR-environment engine test: OpenBao, the local Dokploy server, a stub app."""

from tests.ops.stub_site import site  # noqa: F401  (fixture)
from tests.support.dokploy import dokploy_server  # noqa: F401  (fixture)
from tests.support.openbao import openbao, running_openbao  # noqa: F401  (fixtures)
