"""Smoke-test verdicts against a real HTTP server on loopback: healthy, unhealthy, timeout, redirects."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from components.environment import Environment, environment_for
from ops import cli, smoke
from ops.smoke import Verdict
from tests.ops.stub_site import HEALTHY, Site, redirect, reply, slow

ENV = environment_for("pr-7", {"imageTag": "pr-7-abc1234"})


def verdicts(site: Site, env: Environment = ENV, timeout: float = 2.0) -> dict[str, Verdict]:
    return {c.name: c.verdict for c in smoke.run_once(env, base_url=site.url, timeout=timeout)}


def test_healthy_follows_the_frontends_same_origin_redirect(site: Site) -> None:
    assert verdicts(site) == {"frontend": Verdict.HEALTHY, "api": Verdict.HEALTHY}
    assert site.hits == ["/", "/dashboard", "/api/health"]


def test_the_health_path_comes_from_the_model(site: Site) -> None:
    env = environment_for("pr-7", {"imageTag": "pr-7-abc1234", "healthPath": "/api/healthz"})
    site.routes["/api/healthz"] = HEALTHY
    site.routes["/api/health"] = reply(500)
    assert verdicts(site, env)["api"] is Verdict.HEALTHY
    assert "/api/healthz" in site.hits and "/api/health" not in site.hits


@pytest.mark.parametrize(
    "route",
    [
        reply(503, "down"),
        reply(404),
        reply(200, '{"status": "unhealthy"}'),  # must not pass a substring test for "healthy"
        reply(200, "<html>healthy</html>"),  # not the backend's JSON: probably the frontend answering /api
    ],
    ids=["503", "404", "status-unhealthy", "not-json"],
)
def test_unhealthy_api(site: Site, route: smoke.Check) -> None:
    site.routes["/api/health"] = route  # type: ignore[assignment]
    assert verdicts(site) == {"frontend": Verdict.HEALTHY, "api": Verdict.UNHEALTHY}


def test_unhealthy_frontend(site: Site) -> None:
    site.routes["/dashboard"] = reply(502, "bad gateway")
    assert verdicts(site)["frontend"] is Verdict.UNHEALTHY


def test_timeout(site: Site) -> None:
    site.routes["/api/health"] = slow(1.5, HEALTHY)
    assert verdicts(site, timeout=0.3)["api"] is Verdict.TIMEOUT


def test_redirect_off_site_is_unhealthy(site: Site) -> None:
    site.routes["/"] = redirect("https://parking.example.invalid/")
    checks = smoke.run_once(ENV, base_url=site.url)
    assert checks[0].verdict is Verdict.UNHEALTHY and "off-site" in checks[0].detail
    assert "/dashboard" not in site.hits  # nothing followed


def test_redirect_loop_is_unhealthy(site: Site) -> None:
    site.routes["/"] = redirect("/a")
    site.routes["/a"] = redirect("/")
    check = smoke.run_once(ENV, base_url=site.url)[0]
    assert check.verdict is Verdict.UNHEALTHY and "redirects" in check.detail
    assert len(site.hits) == smoke.MAX_REDIRECTS + 2  # the loop was cut, then /api/health


def test_permanent_redirect_chain_within_the_site_is_followed(site: Site) -> None:
    site.routes["/"] = redirect(site.url + "/en", 301)
    site.routes["/en"] = redirect("/dashboard", 308)
    assert verdicts(site)["frontend"] is Verdict.HEALTHY


def test_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checks = smoke.run_once(ENV, base_url=f"http://127.0.0.1:{port}", timeout=2)
    assert {c.verdict for c in checks} == {Verdict.UNREACHABLE}
    assert smoke.overall(checks) is Verdict.UNREACHABLE


def wait_on_a_fake_clock(site: Site, deadline: float) -> tuple[list[smoke.Check], float]:
    """wait_healthy with 10 s between rounds on a clock that only the sleeps advance; (checks, seconds spent)."""
    now = [0.0]
    checks = smoke.wait_healthy(
        ENV,
        base_url=site.url,
        deadline_seconds=deadline,
        interval=10,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    return checks, now[0]


def test_wait_healthy_retries_until_the_deploy_is_up(site: Site) -> None:
    answers = iter([reply(503), reply(503)])
    site.routes["/api/health"] = lambda h: next(answers, HEALTHY)(h)
    checks, spent = wait_on_a_fake_clock(site, 60)
    assert smoke.overall(checks) is Verdict.HEALTHY
    assert site.hits.count("/api/health") == 3 and spent == 20


def test_wait_healthy_gives_the_last_verdict_at_the_deadline(site: Site) -> None:
    site.routes["/api/health"] = reply(503)
    checks, _ = wait_on_a_fake_clock(site, 25)
    assert smoke.overall(checks) is Verdict.UNHEALTHY
    assert site.hits.count("/api/health") == 3  # t=0, 10, 20; t=30 would pass the deadline


def test_overall_reports_the_worst() -> None:
    c = lambda v: smoke.Check("x", "u", v, "")  # noqa: E731
    assert smoke.overall([c(Verdict.HEALTHY), c(Verdict.UNHEALTHY)]) is Verdict.UNHEALTHY
    assert smoke.overall([c(Verdict.TIMEOUT), c(Verdict.UNHEALTHY)]) is Verdict.TIMEOUT
    assert smoke.overall([c(Verdict.HEALTHY)]) is Verdict.HEALTHY


def test_cli_smoke_healthy_writes_outputs(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, result = tmp_path / "out", tmp_path / "smoke.json"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    argv = ["smoke", "--stack", "pr-7", "--image-tag", "pr-7-abc1234", "--base-url", site.url, "--deadline", "0"]
    assert cli.main([*argv, "--result-file", str(result)]) == 0
    assert "verdict=healthy\n" in out.read_text() and "api=healthy\n" in out.read_text()
    assert [c["verdict"] for c in json.loads(result.read_text())] == ["healthy", "healthy"]


def test_cli_smoke_failure_in_production_names_the_previous_release(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", "owner/finance_report")
    site.routes["/api/health"] = reply(500)
    argv = ["smoke", "--stack", "production", "--image-tag", "v1.4.0", "--base-url", site.url, "--deadline", "0"]
    assert cli.main([*argv, "--release", "v1.4.0", "--previous", "v1.3.9"]) == 1
    out = capsys.readouterr().out
    assert "previously running release was v1.3.9" in out
    assert "gh workflow run production.yml --repo owner/finance_report --ref v1.3.9 -f version=v1.3.9" in out
