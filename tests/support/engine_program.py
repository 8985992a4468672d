"""A Pulumi program (as text) for engine tests: the image and GitHub pieces, wired in the safe order."""

from __future__ import annotations

from tests.support.pulumi_cli import REPO

PROGRAM = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
import pulumi
from components.environment import environment_for
from components.github import GithubArgs, GithubRepository, preflight
from components.images import Images, ImagesArgs

cfg = pulumi.Config("financeReport")
config = {{k: v for k in ("imageTag", "imageRepository") if (v := cfg.get(k))}}
env = environment_for(pulumi.get_stack(), config)
github = GithubArgs(env, owner="wangzitian0", repository="finance_report") if env.managers.github else None
if github and pulumi.Config("test").get_bool("github") is not False:
    preflight(github)  # before anything is registered
else:
    github = None
images = Images("images", ImagesArgs(env))
if github:
    GithubRepository("github", github)
pulumi.export("refs", images.refs)
"""


def resource_types(state: dict[str, object]) -> list[str]:
    deployment = state["deployment"]
    assert isinstance(deployment, dict)
    return [str(r["type"]) for r in deployment.get("resources") or []]
