"""The GitHub helper (one comment edited in place, one drift issue) and the reaper job end to end on fakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ops import comments, pulumi_cli, reap_job
from ops.github_api import GitHub
from ops.orphans import PreviewProject
from ops.reaper import PrState
from tests.ops.fakes import FakeDokploy, FakeGitHub


def client(fake: FakeGitHub) -> GitHub:
    return GitHub("o/r", "token", api_url="https://api.test", transport=fake.transport())


def test_comment_is_created_once_then_edited_in_place() -> None:
    fake = FakeGitHub(comments={7: [{"id": 5000 + i, "body": f"chatter {i}"} for i in range(150)]})  # two pages
    gh = client(fake)
    body1 = comments.marker("pr-environment") + "\nfirst"
    assert gh.upsert_comment(7, "pr-environment", body1) == "created"
    assert gh.upsert_comment(7, "pr-environment", body1.replace("first", "second")) == "updated"
    assert gh.upsert_comment(7, "preview:staging", comments.marker("preview:staging") + "\np") == "created"
    ours = [c["body"] for c in fake.comments[7] if c["body"].startswith("<!--")]
    assert ours == [comments.marker("pr-environment") + "\nsecond", comments.marker("preview:staging") + "\np"]


def test_a_quoted_marker_in_someone_elses_comment_is_not_ours() -> None:
    fake = FakeGitHub(comments={7: [{"id": 1, "body": "look: " + comments.marker("pr-environment")}]})
    assert client(fake).upsert_comment(7, "pr-environment", comments.marker("pr-environment")) == "created"


def test_drift_issue_is_opened_updated_and_closed() -> None:
    fake = FakeGitHub(issues=[{"number": 1, "state": "open", "body": "unrelated"}])
    gh = client(fake)
    body = comments.marker("drift") + "\nv1"
    assert gh.upsert_issue("drift", "Drift detected: staging", body, ["drift"]) == "created"
    assert gh.upsert_issue("drift", "Drift detected: production", body + "v2", ["drift"]) == "updated"
    ours = [i for i in fake.issues if i["number"] != 1]
    assert len(ours) == 1 and ours[0]["title"] == "Drift detected: production" and ours[0]["labels"] == ["drift"]
    assert gh.close_issue("drift", "clean now") is True and ours[0]["state"] == "closed"
    assert gh.close_issue("drift", "clean now") is False


def test_pr_state() -> None:
    gh = client(FakeGitHub(pulls={1: "open", 2: "closed"}))
    assert [gh.pr_state(n) for n in (1, 2, 3)] == [PrState.OPEN, PrState.CLOSED, PrState.MISSING]


# ---- the reaper job ---------------------------------------------------------------------------------
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _stack_ls() -> str:
    fresh, old = "2026-11-26T10:00:00.000Z", "2026-11-01T10:00:00.000Z"
    rows = [("pr-1", fresh), ("pr-2", fresh), ("pr-3", old), ("pr-4", fresh), ("pr-5", fresh), ("staging", old)]
    return "[" + ",".join(f'{{"name": "{n}", "lastUpdate": "{t}"}}' for n, t in rows) + "]"


LIVE_MARKER = "1" * 12  # what pr-1's state holds


def _preview_project() -> FakeDokploy:
    def marked(stack: str) -> str:
        return f"Finance Report {stack} [pulumi:{(LIVE_MARKER if stack == 'pr-1' else '9' * 12)}]"

    return FakeDokploy(
        projects=[{"projectId": "P", "name": "finance_report-preview"}, {"projectId": "Q", "name": "other"}],
        environments={
            "P": [
                {"environmentId": "default", "name": "production", "isDefault": True, "description": "", "compose": []},
                {
                    "environmentId": "E9",
                    "name": "pr-9",
                    "isDefault": False,
                    "description": marked("pr-9"),
                    "compose": [{"composeId": "C9", "name": "pr-9", "description": marked("pr-9")}],
                },
                {
                    "environmentId": "E1",
                    "name": "pr-1",
                    "isDefault": False,
                    "description": marked("pr-1"),
                    "compose": [{"composeId": "C1", "name": "pr-1", "description": marked("pr-1")}],
                },
                {"environmentId": "EX", "name": "scratch", "isDefault": False, "description": None, "compose": []},
                {
                    "environmentId": "E8",
                    "name": "pr-8",
                    "isDefault": False,
                    "description": marked("pr-8"),
                    "compose": [{"composeId": "H8", "name": "by-hand", "description": "someone's experiment"}],
                },
            ],
            "Q": [{"environmentId": "QE", "name": "x", "description": marked("pr-8"), "compose": []}],
        },
    )


@pytest.fixture
def destroyed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def destroy(stack: str) -> pulumi_cli.Result:
        calls.append(stack)
        if stack == "pr-5":
            return pulumi_cli.Result(255, "error: the stack is currently locked by 1 lock(s).")
        return pulumi_cli.Result(0, "destroyed")

    monkeypatch.setattr(pulumi_cli, "stack_ls", _stack_ls)
    exports = {"pr-1": {"deployment": {"resources": [{"outputs": {"marker": LIVE_MARKER}}]}}}
    monkeypatch.setattr(pulumi_cli, "export", lambda stack: json.dumps(exports.get(stack, {})))
    monkeypatch.setattr(pulumi_cli, "remove_state", destroy)
    monkeypatch.setattr(pulumi_cli, "run", lambda *a, **k: pytest.fail(f"the engine ran: pulumi {a}"))
    return calls


def _run(
    destroyed: list[str], *, dry_run: bool = False, delete_orphans: bool = False
) -> tuple[reap_job.Report, FakeGitHub, FakeDokploy]:
    gh = FakeGitHub(pulls={1: "open", 2: "closed", 3: "open", 5: "closed"}, environments={"pr-2", "pr-3"})
    dokploy = _preview_project()
    report = reap_job.run(
        github=client(gh),
        dokploy=PreviewProject("https://dokploy.test", "preview-key", transport=dokploy.transport()),
        environments=client(gh),
        ttl=timedelta(days=7),
        dry_run=dry_run,
        delete_orphans=delete_orphans,
        now=lambda: NOW,
    )
    return report, gh, dokploy


def test_reaper_destroys_closed_and_expired_and_reports_failures(destroyed: list[str]) -> None:
    report, gh, dokploy = _run(destroyed)
    reaped = {d.stack: d.reap for d in report.decisions}
    # pr-1 open+fresh, pr-2 closed, pr-3 open+idle, pr-4 no such PR (fresh), pr-5 closed but locked, staging.
    assert reaped == {"pr-1": False, "pr-2": True, "pr-3": True, "pr-4": False, "pr-5": True, "staging": False}
    assert destroyed == ["pr-2", "pr-3", "pr-5"]
    assert report.failures == {
        "pr-5": "RuntimeError: pulumi stack rm --force: error: the stack is currently locked by 1 lock(s)."
    }
    assert report.environments_deleted == ["pr-2", "pr-3"] and gh.environments == set()
    # pr-9 has objects but no stack: reported, not deleted without the flag. pr-1 is live; "scratch" has no marker.
    assert [(o.kind, o.id) for o, _ in report.orphans] == [
        ("compose", "C9"),
        ("environment", "E9"),
        ("environment", "E8"),
    ]
    assert not any("delete" in c or "remove" in c for c in dokploy.calls)
    md = report.markdown(dry_run=False)
    assert "| `pr-5` | reap FAILED |" in md and "`C9`" in md and "run with delete-orphans" in md


def test_reaper_deletes_orphans_only_with_the_flag(destroyed: list[str]) -> None:
    report, _, dokploy = _run(destroyed, delete_orphans=True)
    assert report.orphans_deleted
    # E8 still holds a hand-made compose: Dokploy refuses, the report says so, the hand-made compose stays.
    assert [e["environmentId"] for e in dokploy.environments["P"]] == ["default", "E1", "EX", "E8"]
    assert dokploy.environments["P"][-1]["compose"][0]["composeId"] == "H8"
    deletes = [c for c in dokploy.calls if c.startswith("POST")]
    assert deletes == ["POST /api/compose.delete", "POST /api/environment.remove", "POST /api/environment.remove"]
    assert "environment E8" in report.failures
    assert "`E8`), marker stack `pr-8`: delete FAILED" in report.markdown(dry_run=False)


def test_reaper_dry_run_changes_nothing(destroyed: list[str]) -> None:
    report, gh, dokploy = _run(destroyed, dry_run=True, delete_orphans=True)
    assert destroyed == [] and gh.environments == {"pr-2", "pr-3"}
    assert len(dokploy.environments["P"]) == 5 and not report.orphans_deleted
    assert "(dry run)" in report.markdown(dry_run=True)


def test_a_failed_pr_lookup_keeps_the_stack(destroyed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    gh = FakeGitHub(pulls={2: "closed"}, fail_pull={2})
    report = reap_job.run(
        github=client(gh), dokploy=None, ttl=timedelta(days=7), dry_run=False, delete_orphans=False, now=lambda: NOW
    )
    assert "pr-2" not in destroyed and report.failures["pr-2"] == "PR lookup: HTTPStatusError"


def test_a_reaped_stack_loses_its_marked_objects_through_the_api_before_its_state(
    destroyed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pr-9's objects are found in Dokploy by marker and place, never from its state; then `stack rm --force`."""
    monkeypatch.setattr(pulumi_cli, "stack_ls", lambda: '[{"name": "pr-9", "lastUpdate": "2026-11-26T10:00:00.000Z"}]')
    gh = FakeGitHub(pulls={9: "closed"}, environments={"pr-9"})
    dokploy = _preview_project()
    report = reap_job.run(
        github=client(gh),
        dokploy=PreviewProject("https://dokploy.test", "preview-key", transport=dokploy.transport()),
        environments=client(gh),
        ttl=timedelta(days=7),
        dry_run=False,
        delete_orphans=False,
        now=lambda: NOW,
    )
    assert report.failures == {} and destroyed == ["pr-9"]
    assert report.deleted == {"pr-9": ["compose C9", "environment E9"]}
    assert [e["environmentId"] for e in dokploy.environments["P"]] == ["default", "E1", "EX", "E8"]
    assert gh.environments == set() and report.environments_deleted == ["pr-9"]


def test_without_a_dokploy_key_the_state_is_kept(destroyed: list[str]) -> None:
    gh = FakeGitHub(pulls={2: "closed", 5: "closed", 1: "open", 3: "open"})
    report = reap_job.run(
        github=client(gh), dokploy=None, ttl=timedelta(days=7), dry_run=False, delete_orphans=False, now=lambda: NOW
    )
    assert destroyed == [] and "no Dokploy key" in report.failures["pr-2"]
