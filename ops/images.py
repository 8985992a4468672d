"""Release images: verify both exist for a release tag, and re-tag staging's manifests as a release.

The registry work is the images component's (`components.images`: GHCR's token exchange, the index /
manifest-list Accept headers, a re-tag that checks everything before tagging anything and never moves a
released tag). It is imported when a command needs it, so the rest of ops does not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.environment import DEFAULT_IMAGE_REPOSITORY
from ops import stacks

if TYPE_CHECKING:
    from components.images import ReleaseRecords


def _records() -> ReleaseRecords:
    """The release records in Vault, as the job's own identity (VAULT_ADDR + a token or JWT login) sees them."""
    from components.images import ReleaseRecords
    from components.vault.client import VaultClient
    from components.vault.connection import VaultConnection

    env = stacks.environment("production", "v0.0.0")
    return ReleaseRecords(VaultClient.connect(VaultConnection()), env.vault_mount)  # VAULT_ADDR at call time


def verify(tag: str) -> dict[str, str]:
    """{component: digest} of both images at `tag`, exactly as the production stack will resolve them:
    each must be the digest staging recorded for `tag`. Raises (naming image and tag) before anything changes.
    """
    from components.images import registry_resolver, released_resolver, resolve_images

    resolver = released_resolver(registry_resolver(), _records())
    return dict(resolve_images(stacks.environment("production", tag), resolver).digests)


def retag(source: str, target: str, repository: str = DEFAULT_IMAGE_REPOSITORY) -> dict[str, str]:
    """Point `target` at `source`'s manifests for both images and record those digests as release `target`
    in Vault (staging's identity only may): {component: digest}, the same before and after."""
    from components.images import release_images

    digests = dict(release_images(repository, source, target))
    _records().record(target, digests)
    return digests
