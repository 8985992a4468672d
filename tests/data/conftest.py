"""Fixtures for the data tests: a real S3 server (versitygw) with a backup bucket and its own key, a real
OpenBao, and throwaway PostgreSQL clusters (Debian's server, ops/scratch_postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ops.scratch_postgres import PostgresMissing, ScratchPostgres, bindir, scratch
from tests.support.s3 import S3Key, S3Server, s3_server  # noqa: F401  (fixture)
from tests.vault.conftest import authority, openbao, running_openbao, signer  # noqa: F401  (fixtures)

BACKUP_BUCKET = "finance-report-backups"


@dataclass(frozen=True)
class Destination:
    """A backup bucket owned by its own key, as an operator would create it for the backups."""

    server: S3Server
    key: S3Key = field(repr=False)
    bucket: str = BACKUP_BUCKET

    def values(self) -> dict[str, str]:
        """The BACKUP_S3_* an operator puts into the postgres secret."""
        return {
            "BACKUP_S3_ENDPOINT": self.server.endpoint,
            "BACKUP_S3_BUCKET": self.bucket,
            "BACKUP_S3_ACCESS_KEY": self.key.access,
            "BACKUP_S3_SECRET_KEY": self.key.secret,
        }

    def keys(self, prefix: str) -> list[str]:
        c = self.server.client(self.server.admin)
        return sorted(o["Key"] for o in c.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", []))


@pytest.fixture(scope="session")
def destination(s3_server: S3Server) -> Destination:  # noqa: F811
    key = s3_server.create_user("backup")
    s3_server.client(s3_server.admin).create_bucket(Bucket=BACKUP_BUCKET)
    s3_server._admin_call(f"/change-bucket-owner/?bucket={BACKUP_BUCKET}&owner={key.access}")
    return Destination(s3_server, key)


@pytest.fixture
def postgres() -> Iterator[ScratchPostgres]:
    try:
        bindir()
    except PostgresMissing as exc:
        pytest.fail(str(exc))
    pg = scratch("data-test-").start()
    try:
        yield pg
    finally:
        pg.stop()
