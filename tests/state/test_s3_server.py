"""The S3 server the state tests run on scopes each key to its zone's bucket (acceptance: "the preview key
refused on staging's bucket"; "a read-only credential ... cannot write"), shown with a plain S3 client."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.s3 import READ_ONLY_ZONES, ZONES, S3Server, bucket_for


def _denied(call: object, *args: object, **kw: object) -> str:
    with pytest.raises(ClientError) as err:
        call(*args, **kw)  # type: ignore[operator]
    return str(err.value.response["Error"]["Code"])


@pytest.mark.parametrize("zone", ZONES)
def test_each_zone_key_reads_and_writes_its_own_bucket(s3_server: S3Server, zone: str) -> None:
    c = s3_server.client(zone)
    c.put_object(Bucket=bucket_for(zone), Key=f"probe/{zone}", Body=b"x")
    assert c.get_object(Bucket=bucket_for(zone), Key=f"probe/{zone}")["Body"].read() == b"x"
    c.delete_object(Bucket=bucket_for(zone), Key=f"probe/{zone}")


FOREIGN = [
    (key, zone)
    for key in ("preview", "staging", "production", "staging-read", "production-read")
    for zone in ZONES
    if key.removesuffix("-read") != zone
]


@pytest.mark.parametrize(("key", "zone"), FOREIGN)
def test_no_key_reaches_another_zones_bucket(s3_server: S3Server, key: str, zone: str) -> None:
    c = s3_server.client(key)
    assert _denied(c.list_objects_v2, Bucket=bucket_for(zone)) == "AccessDenied"
    assert _denied(c.put_object, Bucket=bucket_for(zone), Key="x", Body=b"x") == "AccessDenied"


@pytest.mark.parametrize("zone", READ_ONLY_ZONES)
def test_read_only_key_lists_and_reads_but_cannot_write_or_delete(s3_server: S3Server, zone: str) -> None:
    s3_server.client(zone).put_object(Bucket=bucket_for(zone), Key="probe/ro", Body=b"state")
    reader = s3_server.client(f"{zone}-read")
    assert "probe/ro" in [o["Key"] for o in reader.list_objects_v2(Bucket=bucket_for(zone))["Contents"]]
    assert reader.get_object(Bucket=bucket_for(zone), Key="probe/ro")["Body"].read() == b"state"
    assert _denied(reader.put_object, Bucket=bucket_for(zone), Key="probe/lock", Body=b"x") == "AccessDenied"
    assert _denied(reader.delete_object, Bucket=bucket_for(zone), Key="probe/ro") == "AccessDenied"
    s3_server.client(zone).delete_object(Bucket=bucket_for(zone), Key="probe/ro")


def test_a_wrong_secret_is_refused(s3_server: S3Server) -> None:
    from tests.support.s3 import S3Key

    forged = S3Key(s3_server.keys["staging"].access, "not-the-secret")
    assert _denied(s3_server.client(forged).list_objects_v2, Bucket=bucket_for("staging")) == "SignatureDoesNotMatch"
