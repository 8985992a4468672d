"""Workflows as data for the tests: parsed YAML, jobs, steps, secrets referenced, and the pins file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONS = REPO / ".github" / "actions"
# The verified pins, vendored (the file says where they came from) so the check runs on any checkout.
PINS = REPO / ".github" / "actions-pins.md"

# Events whose runs execute code from a pull request (or act on one): nothing of staging or production
# may be reachable from a job these can start.
PR_EVENTS = {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
PR_EVENTS |= {"issue_comment", "workflow_run", "merge_group"}

_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")
_PIN_ROW = re.compile(r"^\|\s*([\w.-]+/[\w.-]+)\s*\|\s*(v[\w.]+)\s*\|\s*([0-9a-f]{40})\s*\|", re.M)


def _load(path: Path) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True; GitHub reads it as the string "on".
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


@cache
def workflows() -> dict[str, dict[str, Any]]:
    return {p.name: _load(p) for p in sorted(WORKFLOWS.glob("*.y*ml"))}


def composite_actions() -> dict[str, dict[str, Any]]:
    return {str(p.relative_to(REPO)): _load(p) for p in sorted(ACTIONS.glob("*/action.y*ml"))}


def triggers(wf: dict[str, Any]) -> set[str]:
    on = wf["on"]
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    return set(on)


def jobs(wf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(wf["jobs"])


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def uses(job: dict[str, Any]) -> list[str]:
    return [str(s["uses"]) for s in steps(job) if "uses" in s]


def environment_name(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    if env is None:
        return None
    return str(env["name"] if isinstance(env, dict) else env)


def secrets_used(obj: Any) -> set[str]:
    """Every `secrets.X` named anywhere inside a job (env, with:, if:, run:)."""
    return set(_SECRET.findall(yaml.safe_dump(obj)))


def run_scripts(job: dict[str, Any]) -> list[str]:
    return [str(s["run"]) for s in steps(job) if "run" in s]


def vault_roles(job: dict[str, Any]) -> list[str]:
    return [str(s["with"]["role"]) for s in steps(job) if str(s.get("uses", "")).startswith("hashicorp/vault-action@")]


@dataclass(frozen=True)
class Pin:
    action: str
    tag: str
    sha: str


@cache
def pins() -> dict[str, Pin]:
    if not PINS.exists():
        raise AssertionError(f"pins file missing: {PINS}; restore it from git (it is the list of verified action pins)")
    rows = _PIN_ROW.findall(PINS.read_text())
    return {sha: Pin(action, tag, sha) for action, tag, sha in rows}


def uses_with_comments(path: Path) -> list[tuple[str, str]]:
    """(uses value, trailing comment) for every `uses:` line, read as text because YAML drops comments."""
    out = []
    for line in path.read_text().splitlines():
        m = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(.*))?$", line)
        if m:
            out.append((m.group(1), (m.group(2) or "").strip()))
    return out
