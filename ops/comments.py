"""Markdown the workflows post: the PR environment comment, the preview comment, the drift issue.

Each body starts with a hidden marker so the GitHub helper finds and edits the same comment or issue
instead of adding another. Pulumi output is de-coloured and truncated to fit GitHub's 65,536-character
limit for a comment body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.environment import Environment
from ops.smoke import Check, Verdict, overall

BODY_LIMIT = 60_000  # GitHub refuses bodies over 65,536 characters; leave room for the frame
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def marker(key: str) -> str:
    return f"<!-- finance-report:{key} -->"


PR_ENV = "pr-environment"
DRIFT = "drift"


def preview_key(stack: str) -> str:
    return f"preview:{stack}"


def clean_output(text: str, limit: int = BODY_LIMIT) -> str:
    text = _ANSI.sub("", text).replace("```", "'''")  # a fence in the output must not end our block
    if len(text) <= limit:
        return text
    return "… (truncated; the full output is in the run log)\n" + text[-limit:]


def _icon(verdict: Verdict) -> str:
    return "✅" if verdict is Verdict.HEALTHY else "❌"


def pr_environment(
    env: Environment, sha: str, checks: list[Check], run_url: str, *, deployed: bool = True, staging: str | None = None
) -> str:
    """The one PR comment: the environment's table, then (when given) what the PR changes in staging."""
    api = next((c for c in checks if c.name == "api"), None)
    health = f"{_icon(api.verdict)} {api.verdict.value}: {api.detail}" if api else "not checked"
    status = "deployed" if deployed else "deployment failed"
    if checks and deployed:
        status += f", smoke test {overall(checks).value}"
    return "\n".join(
        [
            marker(PR_ENV),
            f"### PR environment `{env.stack}`: {status}",
            "",
            "| | |",
            "| --- | --- |",
            f"| URL | {env.url} |",
            f"| API health | `{env.url}{env.routing.health_path}` — {health} |",
            f"| Commit | `{sha}` |",
            f"| Stack | `{env.stack}` (Dokploy project `{env.dokploy_project}`) |",
            f"| Run | {run_url} |",
            "",
            "_Updated on every push; destroyed when the PR closes._",
            *(["", fit(staging, BODY_LIMIT // 2)] if staging else []),
        ]
    )


def fit(text: str, limit: int) -> str:
    """The head of `text` within `limit` (a summary comes first, so the head is what matters)."""
    if len(text) <= limit:
        return text
    return text[: limit - 60].rstrip() + "\n\n… (truncated; the full text is in the run's summary)"


def pr_environment_destroyed(stack: str, sha: str, run_url: str, *, ok: bool) -> str:
    what = "destroyed and its stack removed" if ok else "could not be destroyed; the reaper retries daily"
    return "\n".join(
        [
            marker(PR_ENV),
            f"### PR environment `{stack}`: {what}",
            "",
            f"Last commit `{sha}`. Run: {run_url}",
        ]
    )


def preview(stack: str, sha: str, exit_code: int, output: str, run_url: str) -> str:
    verdict = "would change as below" if exit_code == 0 else f"preview failed (exit {exit_code})"
    return "\n".join(
        [
            marker(preview_key(stack)),
            f"### `pulumi preview --stack {stack}` at `{sha}`: {verdict}",
            "",
            "<details open><summary>preview output</summary>",
            "",
            "```",
            clean_output(output).rstrip(),
            "```",
            "</details>",
            "",
            f"Run: {run_url}. This comment is edited in place on each push.",
        ]
    )


@dataclass(frozen=True)
class DriftResult:
    stack: str
    status: str  # "clean", "drift", "error"
    output: str


def drift_issue(results: list[DriftResult], run_url: str) -> tuple[str, str]:
    """(title, body) of the one drift issue."""
    drifted = [r.stack for r in results if r.status != "clean"]
    title = f"Drift detected: {', '.join(drifted)}" if drifted else "No drift"
    lines = [marker(DRIFT), "## Infrastructure drift", "", f"Checked by {run_url}", ""]
    lines += ["| stack | result |", "| --- | --- |"]
    lines += [f"| `{r.stack}` | {r.status} |" for r in results]
    per = BODY_LIMIT // max(len(results), 1)
    for r in results:
        if r.status == "clean":
            continue
        lines += [
            "",
            f"<details><summary><code>{r.stack}</code>: pulumi preview --refresh --expect-no-changes</summary>",
            "",
            "```",
            clean_output(r.output, per).rstrip(),
            "```",
            "</details>",
        ]
    lines += ["", "Fix the code or run `pulumi up` on the stack from `main`; the next clean check closes this issue."]
    return title, "\n".join(lines)


def rollback_note(current: str, previous: str | None, repository: str) -> str:
    if not previous:
        return (
            f"Smoke test of production at {current} failed and no previous release is recorded for the stack; "
            "fix forward with a new release."
        )
    return (
        f"Smoke test of production at {current} failed. The previously running release was {previous}. "
        f"Roll back by deploying it again (a new plan, approved like any release): "
        f"`gh workflow run production.yml --repo {repository} --ref {previous} -f version={previous}`"
    )
