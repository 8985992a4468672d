"""Comment and issue rendering: what a reader of the PR or the drift issue sees."""

from __future__ import annotations

from components.environment import environment_for
from ops import comments
from ops.comments import DriftResult
from ops.smoke import Check, Verdict

RUN = "https://github.com/o/r/actions/runs/1"
SHA = "abcdef1234567890"


def test_pr_environment_comment() -> None:
    env = environment_for("pr-7", {"imageTag": "pr-7-abcdef1"})
    checks = [
        Check("frontend", "u", Verdict.HEALTHY, "HTTP 200"),
        Check("api", "u", Verdict.HEALTHY, "answered HTTP 200"),
    ]
    body = comments.pr_environment(env, SHA, checks, RUN)
    assert body.startswith("<!-- finance-report:pr-environment -->\n")
    assert "| URL | https://report-pr-7.zitian.party |" in body
    assert "`https://report-pr-7.zitian.party/api/health` — ✅ healthy: answered HTTP 200" in body
    assert f"| Commit | `{SHA}` |" in body
    assert "| Stack | `pr-7` (Dokploy project `finance_report-preview`) |" in body
    assert "deployed, smoke test healthy" in body and RUN in body


def test_pr_environment_comment_when_unhealthy_or_failed() -> None:
    env = environment_for("pr-7", {"imageTag": "pr-7-abcdef1"})
    sick = [Check("api", "u", Verdict.TIMEOUT, "no answer")]
    assert "❌ timeout: no answer" in comments.pr_environment(env, SHA, sick, RUN)
    failed = comments.pr_environment(env, SHA, [], RUN, deployed=False)
    assert "deployment failed" in failed and "| API health |" in failed and "not checked" in failed


def test_destroyed_comment_keeps_the_same_marker() -> None:
    ok = comments.pr_environment_destroyed("pr-7", SHA, RUN, ok=True)
    bad = comments.pr_environment_destroyed("pr-7", SHA, RUN, ok=False)
    assert ok.startswith(comments.marker(comments.PR_ENV)) and bad.startswith(comments.marker(comments.PR_ENV))
    assert "destroyed and its stack removed" in ok and "reaper" in bad


def test_preview_comment_cleans_and_truncates_output() -> None:
    output = "\x1b[32m+ create\x1b[0m thing\n```\nnot a fence\n" + "x" * 70_000
    body = comments.preview("staging", SHA, 0, output, RUN)
    assert body.startswith("<!-- finance-report:preview:staging -->")
    assert "\x1b" not in body and "+ create thing" not in body  # truncated from the front, colour removed
    assert body.count("```") == 2  # the output's own fence cannot close our block
    assert "truncated" in body and len(body) < 65_536
    short = comments.preview("staging", SHA, 255, "\x1b[31merror: boom\x1b[0m", RUN)
    assert "preview failed (exit 255)" in short and "error: boom" in short


def test_drift_issue() -> None:
    title, body = comments.drift_issue(
        [
            DriftResult("staging", "clean", "nothing"),
            DriftResult("production", "drift", "~ compose app update [diff: ~env]"),
        ],
        RUN,
    )
    assert title == "Drift detected: production"
    assert body.startswith("<!-- finance-report:drift -->")
    assert "| `staging` | clean |" in body and "| `production` | drift |" in body
    assert "~ compose app update" in body and "nothing" not in body  # clean stacks show no output
    title, _ = comments.drift_issue([DriftResult("staging", "error", "x")], RUN)
    assert title == "Drift detected: staging"


def test_rollback_note() -> None:
    note = comments.rollback_note("v1.4.0", "v1.3.9", "o/r")
    assert "v1.3.9" in note and "--ref v1.3.9 -f version=v1.3.9" in note
    assert "no previous release" in comments.rollback_note("v0.0.1", None, "o/r")
