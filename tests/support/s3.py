"""A real S3-compatible server for tests: versitygw's posix gateway (buckets are directories in a temp dir)
with its internal IAM, on loopback, on a free port. Built by `make test-setup`
(scripts/test-setup.d/40-versitygw.sh) into .tools/bin/versitygw; started only by fixtures.

One bucket per trust zone, each owned by its own key; a read-only key per protected zone, granted by a
bucket policy (s3:GetObject + s3:ListBucket only):

    bucket                          read-write key       read-only key (bucket policy)
    finance-report-state-preview    keys["preview"]      -
    finance-report-state-staging    keys["staging"]      keys["staging-read"]
    finance-report-state-production keys["production"]  keys["production-read"]

versitygw's `user` role reaches only buckets it owns or that a policy/ACL grants it, so a key really is
scoped to one bucket (tests/state/test_s3_server.py shows it). Other suites:

    from tests.support.s3 import s3_server  # noqa: F401  (in a conftest: registers the session fixture)

    def test_x(s3_server: S3Server) -> None:
        env = s3_server.pulumi_env("preview")            # PULUMI_BACKEND_URL + AWS_ACCESS_KEY_ID/...
        env = s3_server.pulumi_env("staging", "staging-read")   # the read-only key
        s3_server.objects("preview", ".pulumi/locks/")   # what the bucket holds (read as the admin)

or, outside pytest, `start_s3(directory)` and `.stop()`. The keys are random per server and never printed
(their repr hides the secret).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.support.pulumi_cli import TOOLS_BIN

VERSITYGW = TOOLS_BIN / "versitygw"
REGION = "us-east-1"
ZONES = ("preview", "staging", "production")
READ_ONLY_ZONES = ("staging", "production")
BUCKET_PREFIX = "finance-report-state-"


def versitygw_available() -> bool:
    return VERSITYGW.exists()


def bucket_for(zone: str) -> str:
    return BUCKET_PREFIX + zone


@dataclass(frozen=True)
class S3Key:
    access: str
    secret: str = field(repr=False)

    def env(self) -> dict[str, str]:
        """What a pulumi (or boto3) child process reads for this identity."""
        return {
            "AWS_ACCESS_KEY_ID": self.access,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def _new_key(name: str) -> S3Key:
    return S3Key(f"{name}-{secrets.token_hex(6)}", secrets.token_urlsafe(30))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3Server:
    root: Path
    port: int = 0
    admin: S3Key = field(default_factory=lambda: _new_key("root"))
    keys: dict[str, S3Key] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    # ---- addresses ---------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def backend_url(self, zone: str) -> str:
        """The Pulumi DIY backend URL of a zone's bucket (gocloud.dev s3blob parameter names)."""
        return f"s3://{bucket_for(zone)}?endpoint={self.endpoint}&use_path_style=true&region={REGION}"

    def pulumi_env(self, zone: str, key: str | None = None) -> dict[str, str]:
        """PULUMI_BACKEND_URL and AWS_* for a pulumi process acting on `zone` as `key` (default: the zone's
        read-write key; `"<zone>-read"` for the read-only one)."""
        return {"PULUMI_BACKEND_URL": self.backend_url(zone), **self.keys[key or zone].env()}

    def client(self, key: S3Key | str) -> Any:
        k = self.keys[key] if isinstance(key, str) else key
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=k.access,
            aws_secret_access_key=k.secret,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def objects(self, zone: str, prefix: str = "") -> dict[str, bytes]:
        """Every object of a zone's bucket under prefix (read as the admin), key -> bytes."""
        c = self.client(self.admin)
        out: dict[str, bytes] = {}
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket_for(zone), Prefix=prefix):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = c.get_object(Bucket=bucket_for(zone), Key=obj["Key"])["Body"].read()
        return out

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> S3Server:
        (self.root / "buckets").mkdir(parents=True, exist_ok=True)
        (self.root / "iam").mkdir(exist_ok=True)
        for _ in range(5):  # a free port can be taken between the probe and the bind: try another
            self.port = self.port or _free_port()
            log = (self.root / "versitygw.log").open("ab")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VGW_", "ROOT_", "ADMIN_"))}
            env.update(ROOT_ACCESS_KEY_ID=self.admin.access, ROOT_SECRET_ACCESS_KEY=self.admin.secret)
            self.proc = subprocess.Popen(
                [
                    str(VERSITYGW),
                    "--port",
                    f"127.0.0.1:{self.port}",
                    "--iam-dir",
                    str(self.root / "iam"),
                    "--health",
                    "/health",
                    "--quiet",
                    "posix",
                    str(self.root / "buckets"),
                ],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            if self._wait_ready():
                return self
            self.stop()
            self.port = 0
        raise RuntimeError(f"versitygw did not start; see {self.root / 'versitygw.log'}")

    def _wait_ready(self, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.endpoint}/health", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    # ---- provisioning: what a storage admin does once per zone -------------------------------------
    def _admin_call(self, path: str, body: bytes = b"") -> None:
        """versitygw's admin API (PATCH, SigV4-signed as the root account), as `versitygw admin` sends it,
        without putting any secret on a command line."""
        url = f"{self.endpoint}{path}"
        digest = hashlib.sha256(body).hexdigest()
        req = AWSRequest(method="PATCH", url=url, data=body, headers={"X-Amz-Content-Sha256": digest})
        SigV4Auth(Credentials(self.admin.access, self.admin.secret), "s3", REGION).add_auth(req)
        resp = httpx.request("PATCH", url, content=body, headers=dict(req.headers.items()), timeout=10)
        if resp.status_code >= 400:
            raise RuntimeError(
                f"versitygw admin {path.split('?')[0]} failed: HTTP {resp.status_code} {resp.text[:200]}"
            )

    def create_user(self, name: str, role: str = "user") -> S3Key:
        key = _new_key(name)
        account = (
            f"<Account><Access>{escape(key.access)}</Access><Secret>{escape(key.secret)}</Secret>"
            f"<Role>{role}</Role></Account>"
        )
        self._admin_call("/create-user", account.encode())
        self.keys[name] = key
        return key

    def provision_zones(self) -> None:
        admin = self.client(self.admin)
        for zone in ZONES:
            owner = self.create_user(zone)
            admin.create_bucket(Bucket=bucket_for(zone))
            self._admin_call(f"/change-bucket-owner/?bucket={bucket_for(zone)}&owner={owner.access}")
        for zone in READ_ONLY_ZONES:
            reader = self.create_user(f"{zone}-read")
            policy = read_only_policy(zone, owner=self.keys[zone], reader=reader)
            admin.put_bucket_policy(Bucket=bucket_for(zone), Policy=json.dumps(policy))


def read_only_policy(zone: str, *, owner: S3Key, reader: S3Key) -> dict[str, object]:
    """The reader may read the state (objects and listings), nothing else: no PutObject, so no lock object
    either. versitygw decides by the policy alone once a bucket has one, so the owner is named too."""
    bucket = bucket_for(zone)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [owner.access]},
                "Action": ["s3:*"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": [reader.access]},
                "Action": ["s3:ListBucket", "s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            },
        ],
    }


def start_s3(root: Path) -> S3Server:
    """Outside pytest: a provisioned server (three zone buckets and their keys) with its data in root."""
    server = S3Server(root).start()
    try:
        server.provision_zones()
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    if not versitygw_available():
        pytest.fail("versitygw is required: run `make test-setup` (scripts/test-setup.d/40-versitygw.sh builds it)")
    server = start_s3(tmp_path_factory.mktemp("s3"))
    try:
        yield server
    finally:
        server.stop()
