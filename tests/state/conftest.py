"""Fixtures for the S3 state backend tests: one real S3 server (versitygw, tests/support/s3.py) and one
bootstrapped OpenBao (tests/vault/conftest.py) per session, and Pulumi runners that use them."""

from __future__ import annotations

from tests.support.s3 import s3_server  # noqa: F401  (fixture)
from tests.vault.conftest import authority, openbao, running_openbao, signer  # noqa: F401  (fixtures)
