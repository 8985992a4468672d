"""The GitHub and image parts of a stack, wired the way the FinanceReport component should wire them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.environment import environment_for
from components.github import GithubArgs, GithubRepository, Reviewers, preflight
from components.images import Images, ImagesArgs, Resolver

OWNER, REPOSITORY = "wangzitian0", "finance_report"
REVIEWERS = Reviewers(users=("alice", 7), teams=("release-managers",))
RELEASE_APP_ID = 424242  # the release GitHub App
DIGESTS = {
    "backend": "sha256:" + "b" * 64,
    "frontend": "sha256:" + "f" * 64,
}


def fake_registry(calls: list[tuple[str, str]] | None = None) -> Resolver:
    def resolve(image: str, tag: str) -> str:
        if calls is not None:
            calls.append((image, tag))
        return DIGESTS[image.rsplit("-", 1)[1]]

    return resolve


def stack_program(
    stack: str,
    config: Mapping[str, str] | None = None,
    *,
    resolver: Resolver | None = None,
    reviewers: Reviewers = REVIEWERS,
    wait_timer_minutes: int | None = 10,
) -> Any:
    env = environment_for(stack, config)
    github = (
        GithubArgs(
            env,
            owner=OWNER,
            repository=REPOSITORY,
            reviewers=reviewers,
            wait_timer_minutes=wait_timer_minutes,
            release_app_id=RELEASE_APP_ID,
        )
        if env.managers.github
        else None
    )
    # Everything that can fail runs before the first registration: config rules, the plugin check and
    # production's registry lookups (the Images component does those before registering itself).
    if github:
        preflight(github)
    images = Images("images", ImagesArgs(env, resolver=resolver or fake_registry()))
    if github:
        GithubRepository("github", github)
    return pulumi.Output.all(images.refs, images.digests)
