"""Hostile: a comment or issue forged by another author with our marker is never edited or closed by us.

A PR author (or anyone who can comment) pastes `<!-- finance-report:pr-environment -->` at the top of their
own comment. A job's token with `pull-requests: write` could edit it; the helper must leave it alone and
post its own.
"""

from __future__ import annotations

from ops import comments
from ops.github_api import GitHub
from tests.ops.fakes import FakeGitHub

BOT = "github-actions[bot]"


def _forged(body: str, login: str = "mallory", type_: str = "User") -> dict:
    return {"id": 1, "number": 1, "state": "open", "body": body, "user": {"login": login, "type": type_}}


def _client(fake: FakeGitHub, **kw: str) -> GitHub:
    return GitHub("o/r", "token", api_url="https://api.test", transport=fake.transport(), **kw)


def test_a_forged_pr_comment_with_our_marker_is_not_edited_a_new_one_is_created() -> None:
    forged = comments.marker(comments.PR_ENV) + "\nPreview ready: https://evil.example"
    fake = FakeGitHub(comments={7: [_forged(forged)]})
    assert _client(fake).upsert_comment(7, comments.PR_ENV, comments.marker(comments.PR_ENV) + "\nours") == "created"
    thread = fake.comments[7]
    assert thread[0]["body"] == forged, "the forged comment was rewritten"
    assert [c["user"]["login"] for c in thread] == ["mallory", BOT]
    assert "PATCH /repos/o/r/issues/comments/1" not in fake.calls
    # and the next run edits ours, not the forged one
    assert _client(fake).upsert_comment(7, comments.PR_ENV, comments.marker(comments.PR_ENV) + "\nv2") == "updated"
    assert thread[0]["body"] == forged and thread[1]["body"].endswith("v2")


def test_a_user_named_like_the_bot_is_not_the_bot() -> None:
    # GitHub user logins cannot contain brackets, but the check does not rely on that: a Bot type is required.
    fake = FakeGitHub(comments={7: [_forged(comments.marker(comments.PR_ENV), login=BOT, type_="User")]})
    assert _client(fake).upsert_comment(7, comments.PR_ENV, comments.marker(comments.PR_ENV)) == "created"


def test_a_forged_drift_issue_is_neither_updated_nor_closed() -> None:
    forged = comments.marker(comments.DRIFT) + "\nall fine, ignore"
    fake = FakeGitHub(issues=[_forged(forged)])
    gh = _client(fake)
    assert gh.close_issue(comments.DRIFT, "clean") is False and fake.issues[0]["state"] == "open"
    assert gh.upsert_issue(comments.DRIFT, "Drift detected: staging", comments.marker(comments.DRIFT), []) == "created"
    assert fake.issues[0]["body"] == forged and fake.issues[1]["user"]["login"] == BOT


def test_a_github_app_identity_is_configured_by_login() -> None:
    app = "finance-report-release[bot]"
    fake = FakeGitHub(comments={7: [_forged(comments.marker(comments.PR_ENV), login=app, type_="Bot")]})
    fake.logins["token"] = app
    gh = _client(fake, bot_login=app)
    assert gh.upsert_comment(7, comments.PR_ENV, comments.marker(comments.PR_ENV)) == "updated"
    assert len(fake.comments[7]) == 1
