"""Fixtures of the ops tests: `site`, a stub app on loopback (tests/ops/stub_site.py)."""

from tests.ops.stub_site import site  # noqa: F401  (fixture)
