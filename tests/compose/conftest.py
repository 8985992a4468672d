"""Rendered compose plans for the four kinds of stack, shared by the compose tests."""

from __future__ import annotations

import pytest

from components.compose import ComposeFile, Images, plan
from components.environment import Environment, environment_for

STACKS = {
    "pr-7": {"imageTag": "pr-7-abc1234"},
    "staging": {"imageTag": "sha-abc1234"},
    "production": {"imageTag": "v1.0.45"},
    "local": {"baseDomain": "localhost.localdomain"},
}


def env_of(stack: str) -> Environment:
    return environment_for(stack, STACKS[stack])


def files_of(stack: str) -> list[ComposeFile]:
    env = env_of(stack)
    return plan(env, Images(env.image("backend"), env.image("frontend")))


@pytest.fixture(params=sorted(STACKS))
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)
