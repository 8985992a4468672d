"""The objects of a Pulumi self-managed (DIY) backend, read the way the CLI opens them: `file://<dir>` or
`s3://<bucket>[/<prefix>]?endpoint=…&use_path_style=true&region=…` (gocloud.dev s3blob's parameters;
credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, like the CLI).

Only what the lock tooling needs: list keys under a prefix, read one, delete one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from components.environment import ConfigError

BOOKKEEPING = ".pulumi"


class Store(Protocol):
    @property
    def url(self) -> str: ...

    def keys(self, prefix: str) -> list[str]: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class FileStore:
    url: str
    root: Path

    def keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Store:
    url: str
    bucket: str
    prefix: str  # "" or "<path>/", as the CLI prefixes every key
    client: Any

    def keys(self, prefix: str) -> list[str]:
        out: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            out += [str(o["Key"])[len(self.prefix) :] for o in page.get("Contents", [])]
        return sorted(out)

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read())

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


def _s3_store(url: str) -> S3Store:
    import boto3
    from botocore.config import Config

    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    endpoint = query.get("endpoint")
    insecure = query.get("disable_https", query.get("disableSSL", "false")).lower() == "true"
    if endpoint and "://" not in endpoint:
        endpoint = ("http://" if insecure else "https://") + endpoint
    path_style = query.get("use_path_style", query.get("s3ForcePathStyle", "false")).lower() == "true"
    prefix = parts.path.strip("/")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=query.get("region") or os.environ.get("AWS_REGION") or None,
        config=Config(s3={"addressing_style": "path" if path_style else "auto"}),
    )
    return S3Store(url, parts.netloc, f"{prefix}/" if prefix else "", client)


def open_store(url: str) -> Store:
    """The backend at `url` (PULUMI_BACKEND_URL's syntax); a clear error for anything else."""
    scheme = urlsplit(url).scheme
    if scheme == "file":
        path = unquote(url.removeprefix("file://").split("?", 1)[0])
        return FileStore(url, Path(os.path.expanduser(path)))
    if scheme == "s3":
        return _s3_store(url)
    raise ConfigError(
        f"backend {url.split('?', 1)[0]!r} is not a self-managed file:// or s3:// backend "
        "(Pulumi Cloud keeps its own locks: use `pulumi cancel` there)"
    )


def redacted(url: str) -> str:
    """The backend URL as safe to print: no query (it could carry credentials), no user info."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}" if parts.scheme != "file" else url.split("?", 1)[0]
