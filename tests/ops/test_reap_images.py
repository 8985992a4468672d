"""The PR image reaper: the selection rule, and the Packages API calls against a MockTransport of GitHub."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ops import cli, reap_images
from ops.github_api import GitHub
from ops.reap_images import Version

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TTL = timedelta(days=7)
OLD, FRESH = NOW - timedelta(days=8), NOW - timedelta(days=1)


def _deleted(version: Version, kept: frozenset[int] = frozenset()) -> tuple[bool, str]:
    d = reap_images.decide("p", version, kept, NOW, TTL)
    return d.delete, d.reason


def test_only_pr_images_past_the_ttl_whose_pr_has_no_kept_stack_are_deleted() -> None:
    assert _deleted(Version(1, ("pr-33-abcdef0",), OLD)) == (True, "updated 192h ago, TTL 168h; no kept stack")
    assert _deleted(Version(1, ("pr-33-abcdef0", "pr-35-0123456"), OLD))[0] is True  # both stale
    assert _deleted(Version(2, ("pr-34-abcdef0",), FRESH)) == (False, "updated 24h ago, TTL 168h")
    assert _deleted(Version(3, ("pr-34-abcdef0",), OLD), frozenset({34})) == (False, "PR #34: its stack is kept")
    # one digest built by two PRs: the kept one holds it
    assert _deleted(Version(4, ("pr-33-abcdef0", "pr-34-abcdef0"), OLD), frozenset({34}))[0] is False


@pytest.mark.parametrize("tag", ["v1.2.3", "sha-abcdef0", "staging", "pr-33", "pr-0-abcdef0", "latest"])
def test_release_sha_staging_and_foreign_tags_are_never_deleted(tag: str) -> None:
    assert _deleted(Version(1, (tag,), OLD)) == (False, f"also tagged `{tag}` (not a PR image)")
    assert _deleted(Version(1, ("pr-33-abcdef0", tag), OLD))[0] is False  # a PR tag beside it changes nothing


def test_untagged_and_unknown_age_are_kept() -> None:
    assert _deleted(Version(1, (), OLD)) == (False, "untagged")
    assert _deleted(Version(1, ("pr-33-abcdef0",), None)) == (False, "age unknown")


def test_parse_version_reads_the_packages_api_shape() -> None:
    row = {
        "id": 77,
        "name": "sha256:" + "a" * 64,
        "updated_at": "2026-11-18T12:00:00Z",
        "metadata": {"package_type": "container", "container": {"tags": ["pr-3-abcdef0"]}},
    }
    assert reap_images.parse_version(row) == Version(77, ("pr-3-abcdef0",), NOW - TTL - timedelta(days=1))
    assert reap_images.parse_version({"id": 5, "metadata": {}}) == Version(5, (), None)


def test_pr_packages_come_from_the_environment_model() -> None:
    assert reap_images.pr_packages() == [
        ("wangzitian0", "finance_report-preview-backend"),
        ("wangzitian0", "finance_report-preview-frontend"),
    ]


# ---- against the Packages API ---------------------------------------------------------------------
@dataclass
class FakePackages:
    """GitHub's Packages API for container packages of one owner: list versions (paged), delete one."""

    owner_type: str = "User"
    versions: dict[str, list[dict]] = field(default_factory=dict)  # package -> versions
    fail_delete: set[int] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def handle(self, req: httpx.Request) -> httpx.Response:
        path = req.url.path
        self.calls.append(f"{req.method} {path}")
        if path == "/users/acme":
            return httpx.Response(200, json={"login": "acme", "type": self.owner_type})
        scope = "orgs" if self.owner_type == "Organization" else "users"
        m = re.fullmatch(rf"/{scope}/acme/packages/container/([^/]+)/versions(?:/(\d+))?", path)
        if not m or m[1] not in self.versions:
            return httpx.Response(404, json={"message": "Package not found."})
        rows = self.versions[m[1]]
        if req.method == "GET" and m[2] is None:
            page, per = int(req.url.params["page"]), int(req.url.params["per_page"])
            return httpx.Response(200, json=rows[(page - 1) * per : page * per])
        if req.method == "DELETE" and m[2]:
            if int(m[2]) in self.fail_delete:
                return httpx.Response(403, json={"message": "Forbidden"})
            self.versions[m[1]] = [r for r in rows if r["id"] != int(m[2])]
            return httpx.Response(204)
        return httpx.Response(405)


def _row(vid: int, tags: list[str], when: datetime) -> dict:
    stamp = when.isoformat().replace("+00:00", "Z")
    return {"id": vid, "updated_at": stamp, "metadata": {"container": {"tags": tags}}}


def _fake(owner_type: str = "User") -> FakePackages:
    backend = [_row(i, [f"pr-{i}-abcdef0"], OLD) for i in range(1, 151)]  # two pages, all stale
    backend += [_row(500, ["v1.0.0"], OLD), _row(501, ["sha-abcdef0", "staging"], OLD), _row(502, [], OLD)]
    backend += [_row(503, ["pr-7-1234567"], FRESH)]
    return FakePackages(owner_type, {"app-backend": backend, "app-frontend": [_row(9, ["pr-9-abcdef0"], OLD)]})


def _run(fake: FakePackages, *, kept: set[int], dry_run: bool = False) -> reap_images.Report:
    gh = GitHub("acme/app", "token", api_url="https://api.test", transport=httpx.MockTransport(fake.handle))
    packages = [("acme", "app-backend"), ("acme", "app-frontend"), ("acme", "app-never-pushed")]
    return reap_images.run(github=gh, kept=kept, ttl=TTL, dry_run=dry_run, packages=packages, now=lambda: NOW)


@pytest.mark.parametrize("owner_type", ["User", "Organization"])
def test_stale_pr_versions_are_deleted_and_everything_else_stays(owner_type: str) -> None:
    fake = _fake(owner_type)
    report = _run(fake, kept={3, 9})
    left = {tuple(r["metadata"]["container"]["tags"]) for r in fake.versions["app-backend"]}
    assert left == {
        ("pr-3-abcdef0",),
        ("pr-9-abcdef0",),
        ("v1.0.0",),
        ("sha-abcdef0", "staging"),
        (),
        ("pr-7-1234567",),
    }
    assert [r["id"] for r in fake.versions["app-frontend"]] == [9]  # PR 9's stack is kept
    assert report.failures == {}  # a package nothing was pushed to is simply empty
    assert sum(c.startswith("DELETE") for c in fake.calls) == 148
    assert fake.calls.count("GET /users/acme") == 1  # the owner's kind is asked once
    md = report.markdown(dry_run=False)
    assert "| `app-backend` | `v1.0.0` | keep | also tagged `v1.0.0` (not a PR image) |" in md
    assert "| `app-backend` | `pr-1-abcdef0` | delete | updated 192h ago" in md


def test_dry_run_deletes_nothing_and_a_refused_delete_is_reported_not_fatal() -> None:
    fake = _fake()
    report = _run(fake, kept=set(), dry_run=True)
    assert not any(c.startswith("DELETE") for c in fake.calls) and len(fake.versions["app-backend"]) == 154
    assert "(dry run)" in report.markdown(dry_run=True)
    fake.fail_delete = {2}
    report = _run(fake, kept=set())
    assert report.failures == {"app-backend 2": "delete: HTTPStatusError"}
    assert [r["id"] for r in fake.versions["app-frontend"]] == []  # the other package still pruned
    assert "| `app-backend` | `pr-2-abcdef0` | delete FAILED |" in report.markdown(dry_run=False)


def test_a_package_that_cannot_be_listed_deletes_nothing_of_it() -> None:
    fake = _fake()
    broken = httpx.MockTransport(lambda req: httpx.Response(500) if "versions" in req.url.path else fake.handle(req))
    gh = GitHub("acme/app", "token", api_url="https://api.test", transport=broken)
    report = reap_images.run(
        github=gh, kept=set(), ttl=TTL, dry_run=False, packages=[("acme", "app-backend")], now=lambda: NOW
    )
    assert report.failures == {"app-backend": "list: HTTPStatusError"} and report.decisions == []
    assert len(fake.versions["app-backend"]) == 154


# ---- wiring: the reap job hands the kept PRs to the images job -------------------------------------
def test_reap_images_wiring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def run(**kw: object) -> reap_images.Report:
        seen.update(kw)
        return reap_images.Report()

    monkeypatch.setattr(reap_images, "run", run)
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert cli.main(["reap-images", "--ttl-hours", "12", "--kept-prs", "[34, 35]", "--dry-run"]) == 0
    assert seen["kept"] == [34, 35] and seen["ttl"] == timedelta(hours=12) and seen["dry_run"] is True
    seen.clear()
    for bad in ("", "34", '["34"]', "{}"):
        assert cli.main(["reap-images", "--kept-prs", bad]) == 1  # no list of PRs: nothing is deleted
    assert seen == {}


def test_the_reap_job_reports_the_prs_whose_stack_stays(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ops import reap_job, reaper

    decisions = [
        reaper.Decision("pr-1", False, "open", 1),
        reaper.Decision("pr-2", True, "closed", 2),
        reaper.Decision("pr-5", True, "closed", 5),
        reaper.Decision("staging", False, "not a PR stack"),
    ]
    monkeypatch.setattr(reap_job, "run", lambda **kw: reap_job.Report(decisions=decisions, failures={"pr-5": "x"}))
    for name, value in {"GITHUB_REPOSITORY": "o/r", "GITHUB_TOKEN": "t", "DOKPLOY_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    cli.main(["reap"])
    assert "kept_prs=[1, 5]\n" in (tmp_path / "out").read_text()  # pr-5's teardown failed: still there
    (tmp_path / "out").write_text("")
    cli.main(["reap", "--stack", "pr-2"])
    assert "kept_prs" not in (tmp_path / "out").read_text()  # one stack decided: the images job does not run
