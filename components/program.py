"""Glue between the Pulumi runtime and the environment model, kept out of `__main__.py`."""

from __future__ import annotations

import pulumi

from components.environment import ConfigError, environment_for


def run() -> None:
    stack = pulumi.get_stack()
    cfg = pulumi.Config("financeReport")
    keys = (
        "baseDomain",
        "imageTag",
        "imageRepository",
        "vaultMount",
        "ownsProjects",
        "manageGithub",
        "apiPath",
        "stripApiPrefix",
        "healthPath",
        "deployTimeoutSeconds",
    )
    config = {k: v for k in keys if (v := cfg.get(k)) is not None}
    try:
        env = environment_for(stack, config)
    except ConfigError as exc:
        # One line, before anything is registered: nothing changes anywhere.
        raise SystemExit(f"error: {exc}") from None
    pulumi.export("environment", env.name)
    pulumi.export("url", env.url)
