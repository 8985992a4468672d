"""Synthetic webhook payloads, shaped as GitHub sends them (only the fields the workflows and act read)."""

from __future__ import annotations

from typing import Any

from components.vault.authority import REPOSITORY


def pull_request(
    action: str, number: int, *, head: str, base_sha: str, fork: str | None = None, merged: bool = False
) -> dict[str, Any]:
    head_repo = fork or REPOSITORY
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "state": "closed" if action == "closed" else "open",
            "merged": merged,
            "head": {"sha": head, "ref": f"feature-{number}", "repo": {"full_name": head_repo}},
            "base": {"sha": base_sha, "ref": "main", "repo": {"full_name": REPOSITORY}},
        },
    }


def push(ref: str, before: str, after: str) -> dict[str, Any]:
    return {"ref": ref, "before": before, "after": after, "deleted": False, "created": False}
