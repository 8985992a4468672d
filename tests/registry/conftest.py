"""One real registry (docker-registry + our token server) per session, with the test images pushed once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry import (
    OciLayout,
    Registry,
    running_registry,
    skopeo_copy,
    skopeo_raw_manifest,
)

OWNER = "acme"
PREFIX = f"{OWNER}/finance_report"  # repositories acme/finance_report-backend and -frontend
USERS = {"ci": ("ci-secret", ("pull", "push")), "reader": ("reader-secret", ("pull",))}
STAGING_TAG = "sha-abc1234"


@dataclass
class Pushed:
    registry: Registry
    digests: dict[str, str]  # "<repo>:<tag>" -> the digest we wrote (our own bytes, hashed)
    home: Path

    @property
    def prefix(self) -> str:
        return f"{self.registry.address}/{PREFIX}"


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("registry"), USERS) as reg:
        yield reg


@pytest.fixture(scope="session")
def pushed(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Pushed:
    home = tmp_path_factory.mktemp("skopeo-home")
    layout = OciLayout(tmp_path_factory.mktemp("layout") / "oci")
    digests: dict[str, str] = {}

    def push(repo: str, tag: str, descriptor: dict[str, object], *extra: str) -> None:
        layout.name(f"{repo.rsplit('-', 1)[1]}-{tag}", descriptor)
        src = f"oci:{layout.path}:{repo.rsplit('-', 1)[1]}-{tag}"
        skopeo_copy(src, f"docker://{registry.address}/{repo}:{tag}", "ci:ci-secret", *extra, home=home)
        digests[f"{repo}:{tag}"] = str(descriptor["digest"])

    for component in ("backend", "frontend"):
        repo = f"{PREFIX}-{component}"
        # What staging's workflow pushes: a multi-platform index. --preserve-digests makes skopeo fail
        # rather than rewrite it, so the digest we computed is the one the registry must report.
        push(repo, STAGING_TAG, layout.index(f"{component} staging"), "--all", "--preserve-digests")
    push(f"{PREFIX}-backend", "single", layout.image("single oci image"), "--preserve-digests")
    # Docker's media types: skopeo converts, so the expected digest is what skopeo itself reads back.
    for tag, descriptor, extra in (
        ("docker-list", layout.index("docker list"), ("--all", "--format", "v2s2")),
        ("docker-v2", layout.image("docker v2"), ("--format", "v2s2")),
    ):
        push(f"{PREFIX}-backend", tag, descriptor, *extra)
        raw = skopeo_raw_manifest(f"docker://{registry.address}/{PREFIX}-backend:{tag}", "ci:ci-secret", home)
        digests[f"{PREFIX}-backend:{tag}"] = "sha256:" + hashlib.sha256(raw).hexdigest()
    # Released only half-way: the backend has v1.0.0, the frontend does not.
    push(f"{PREFIX}-backend", "v1.0.0", layout.index("backend release"), "--all", "--preserve-digests")
    return Pushed(registry=registry, digests=digests, home=home)


# The Vault side of provenance (release records): the real OpenBao, bootstrapped as in tests/vault.
from tests.support.openbao import openbao  # noqa: E402, F401  (fixture)
from tests.vault.conftest import authority, signer  # noqa: E402, F401  (fixtures)
