"""Release images: verify both exist for a release tag, and re-tag staging's manifests as a release.

The registry work is the images component's (`components.images`: GHCR's token exchange, the index /
manifest-list Accept headers, a re-tag that checks everything before tagging anything and never moves a
released tag). It is imported when a command needs it, so the rest of ops does not load it.
"""

from __future__ import annotations

from components.environment import DEFAULT_IMAGE_REPOSITORY
from ops import stacks


def verify(tag: str) -> dict[str, str]:
    """{component: digest} of both images at `tag`, exactly as the production stack will resolve them.

    Raises (naming image and tag) when one is missing, before anything changes.
    """
    from components.images import resolve_images

    return dict(resolve_images(stacks.environment("production", tag)).digests)


def retag(source: str, target: str, repository: str = DEFAULT_IMAGE_REPOSITORY) -> dict[str, str]:
    """Point `target` at `source`'s manifests for both images: {component: digest}, the same before and after."""
    from components.images import release_images

    return dict(release_images(repository, source, target))
