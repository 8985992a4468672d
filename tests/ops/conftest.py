"""Fixtures of the ops tests: `site`, a stub app on loopback (tests/ops/stub_site.py); `dokploy_server`."""

from tests.ops.stub_site import site  # noqa: F401  (fixture)
from tests.support.dokploy import dokploy_server  # noqa: F401  (fixture)
from tests.support.openbao import openbao, running_openbao  # noqa: F401  (fixtures)
