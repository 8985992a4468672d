"""GitHub Actions I/O: step outputs and the job summary (plain stdout when run elsewhere)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping


def set_outputs(values: Mapping[str, str]) -> None:
    """Print `key=value` and, inside Actions, append to $GITHUB_OUTPUT (multi-line values with a delimiter)."""
    path = os.environ.get("GITHUB_OUTPUT")
    for key, value in values.items():
        print(f"{key}={value}")
        if not path:
            continue
        with open(path, "a", encoding="utf-8") as fh:
            if "\n" in value:
                delim = f"ops_{secrets.token_hex(8)}"  # unguessable, so the value cannot end the block early
                fh.write(f"{key}<<{delim}\n{value}\n{delim}\n")
            else:
                fh.write(f"{key}={value}\n")


def summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip() + "\n\n")
    else:
        print(markdown)


def run_url() -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    run = os.environ.get("GITHUB_RUN_ID", "")
    return f"{server}/{repo}/actions/runs/{run}" if repo and run else "(local run)"


def error(message: str) -> None:
    """An annotation in Actions, a plain line elsewhere."""
    print(f"::error::{message}" if os.environ.get("GITHUB_ACTIONS") else f"error: {message}")
