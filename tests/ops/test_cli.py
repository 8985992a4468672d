"""`python -m ops` as the workflows call it: outputs, one-line errors, the drift flow on fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops import cli, drift, pulumi_cli
from ops.required_checks import REQUIRED_CHECKS
from ops.stacks import REPO
from tests.ops.fakes import FakeGitHub
from tests.ops.test_github_and_reap import client


@pytest.fixture
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return out


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and "<<" not in line)


def test_pr_stack_outputs(outputs: Path) -> None:
    assert cli.main(["pr-stack", "--pr", "7", "--sha", "0123456789abcdef"]) == 0
    assert _outputs(outputs) == {
        "stack": "pr-7",
        "url": "https://report-pr-7.zitian.party",
        "host": "report-pr-7.zitian.party",
        "image_tag": "pr-7-0123456",
        "health_url": "https://report-pr-7.zitian.party/api/health",
        "dokploy_project": "finance_report-preview",
    }


def test_staging_env_info(outputs: Path) -> None:
    assert cli.main(["env-info", "--stack", "staging", "--sha", "abcdef0123"]) == 0
    assert _outputs(outputs)["image_tag"] == "sha-abcdef0"


def test_a_bad_pr_number_is_one_line_on_stderr() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ops", "pr-stack", "--pr", "0"],
        cwd=REPO,
        env={**os.environ, "GITHUB_OUTPUT": ""},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: unknown stack name 'pr-0'") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("version", "ref", "ok"),
    [
        ("", "refs/tags/v1.2.3", True),  # a tag push
        ("v1.2.3", "refs/tags/v1.2.3", True),  # dispatched from the tag it names
        ("v1.2.3", "refs/heads/main", False),  # dispatched from main: the environment would refuse it
        ("", "refs/tags/v1.2", False),
        ("1.2.3", "refs/tags/1.2.3", False),
    ],
)
def test_release_check(version: str, ref: str, ok: bool, outputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["release-check", "--version", version, "--ref", ref]) == (0 if ok else 1)
    if ok:
        assert _outputs(outputs) == {"version": "v1.2.3"}
    elif ref == "refs/heads/main":
        assert "gh workflow run production.yml --ref v1.2.3 -f version=v1.2.3" in capsys.readouterr().err


def test_required_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["required-checks"]) == 0
    assert capsys.readouterr().out.splitlines() == list(REQUIRED_CHECKS)


def test_comment_dry_run_renders_into_the_summary(outputs: Path, tmp_path: Path) -> None:
    smoke = tmp_path / "smoke.json"
    smoke.write_text(json.dumps([{"name": "api", "url": "u", "verdict": "unhealthy", "detail": "HTTP 502"}]))
    argv = ["comment", "pr-env", "--pr", "7", "--sha", "abcdef0123", "--smoke", str(smoke), "--dry-run"]
    assert cli.main(argv) == 0
    text = (tmp_path / "summary.md").read_text()
    assert "report-pr-7.zitian.party" in text and "❌ unhealthy: HTTP 502" in text


def test_comment_failure_is_an_error_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, outputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert cli.main(["comment", "pr-env-destroyed", "--pr", "7", "--sha", "abc1234"]) == 1
    assert "GITHUB_TOKEN is not set" in capsys.readouterr().err


def test_drift_check_and_issue(monkeypatch: pytest.MonkeyPatch, outputs: Path) -> None:
    seen: list[tuple[str, str | None]] = []
    history = [
        {"kind": "update", "result": "succeeded", "config": {"financeReport:imageTag": {"value": "sha-1234567"}}}
    ]
    monkeypatch.setattr(pulumi_cli, "history", lambda stack: json.dumps(history))

    def preview(stack: str, tag: str | None) -> pulumi_cli.Result:
        seen.append((stack, tag))
        if stack == "production":
            return pulumi_cli.Result(
                255, "~ app update\nerror: no changes were expected for preview but changes were proposed"
            )
        return pulumi_cli.Result(0, "Resources: 5 unchanged")

    monkeypatch.setattr(pulumi_cli, "drift_preview", preview)
    assert drift.check("staging").status == "clean"
    assert drift.check("production").status == "drift"
    assert seen == [("staging", "sha-1234567"), ("production", "sha-1234567")]
    monkeypatch.setattr(
        pulumi_cli, "drift_preview", lambda s, t: pulumi_cli.Result(255, "Previewing\nerror: Vault sealed")
    )
    assert drift.check("staging").status == "error"

    assert cli.main(["drift-check", "--stack", "production"]) == 0  # the issue job decides, not this one
    out = outputs.read_text()
    assert "status=error\n" in out and "report<<ops_" in out and "error: Vault sealed" in out

    fake = FakeGitHub()
    monkeypatch.setattr(cli, "_github", lambda: client(fake))
    monkeypatch.setenv("DRIFT_REPORT_PRODUCTION", "~ app update")
    assert cli.main(["drift-issue", "--result", "staging=clean", "--result", "production=drift"]) == 1
    assert len(fake.issues) == 1 and fake.issues[0]["title"] == "Drift detected: production"
    assert cli.main(["drift-issue", "--result", "staging=clean", "--result", "production="]) == 1  # skipped job
    assert fake.issues[0]["title"] == "Drift detected: production" and len(fake.issues) == 1
    assert cli.main(["drift-issue", "--result", "staging=clean", "--result", "production=clean"]) == 0
    assert fake.issues[0]["state"] == "closed"


def _all_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT as GitHub reads it: `k=v` lines and `k<<DELIM` ... `DELIM` blocks."""
    lines, out, i = path.read_text().splitlines(), {}, 0
    while i < len(lines):
        key, sep, rest = lines[i].partition("<<")
        if sep and "=" not in key:
            end = lines.index(rest, i + 1)
            out[key] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        k, _, v = lines[i].partition("=")
        out[k] = v
        i += 1
    return out


def test_build_plan_outputs_what_ci_builds(outputs: Path, tmp_path: Path) -> None:
    (tmp_path / "apps").mkdir()  # a checkout holding the app (the monorepo); tests/github/test_app_source.py: the rest
    assert cli.main(["build-plan", "--stack", "staging", "--sha", "abcdef0123", "--workspace", str(tmp_path)]) == 0
    out = _all_outputs(outputs)
    assert out["backend_context"] == "apps/backend" and out["frontend_context"] == "apps/frontend"
    assert out["frontend_tags"].splitlines() == [
        "ghcr.io/wangzitian0/finance_report-frontend:sha-abcdef0",
        "ghcr.io/wangzitian0/finance_report-frontend:staging",
    ]
    # The frontend calls `${NEXT_PUBLIC_API_URL}/api/...`: the origin, never `.../api` (the seed's double-/api bug).
    assert out["frontend_build_args"] == "NEXT_PUBLIC_API_URL=https://report-staging.zitian.party"
    assert out["backend_build_args"] == ""
    assert cli.main(["build-plan", "--stack", "production", "--image-tag", "v1.0.0"]) == 1  # production never builds


def test_reap_wiring(monkeypatch: pytest.MonkeyPatch, outputs: Path, tmp_path: Path) -> None:
    from datetime import timedelta

    from ops import reap_job

    seen: dict[str, object] = {}

    def run(**kw: object) -> reap_job.Report:
        seen.update(kw)
        return reap_job.Report(failures={"pr-5": "locked"} if kw["delete_orphans"] else {})

    monkeypatch.setattr(reap_job, "run", run)
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("DOKPLOY_API_KEY", "k")
    monkeypatch.setenv("DOKPLOY_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("GH_ENVIRONMENTS_TOKEN", raising=False)
    assert cli.main(["reap", "--ttl-hours", "12", "--dry-run"]) == 0
    assert seen["ttl"] == timedelta(hours=12) and seen["dry_run"] is True and seen["environments"] is None
    assert seen["dokploy"] is not None  # the preview project is listed when a key is given
    assert cli.main(["reap", "--delete-orphans"]) == 1  # a failure is reported and fails the job
    assert "PR stack reaper" in (tmp_path / "summary.md").read_text()
