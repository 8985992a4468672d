"""`make up` on a clean copy says what is real, and its dashboard shows what was deployed (issue 18).

1. the last lines name what ran for real and what is simulated, and every URL they print answers, except
   the app's, which is labelled as not served here;
2. headless chromium finds each compose of `local` with its latest deployment, each compose's page its
   deployments, domains, compose file and masked env, and the request log;
3. after a one-tag change and `make up`, the page shows the new deployment, done;
4. no known secret value is on any page. Screenshots are kept in the session's artefacts directory.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.local.browser import Dashboard
from tests.local.conftest import LocalUp, make
from tests.support.leaks import assert_no_leak

pytestmark = [pytest.mark.engine, pytest.mark.slow]

URL = re.compile(r"https?://[^\s()`'\"]+")
APP_URL = "https://report-local.localhost.localdomain"


@pytest.fixture(scope="module")
def dashboard(local_up: LocalUp, browser: Any) -> Dashboard:
    clone = local_up.clone
    return Dashboard(browser, clone.dokploy_url, clone.dokploy_key, local_up.artefacts)


def test_make_up_names_what_is_real_and_what_is_simulated(local_up: LocalUp) -> None:
    summary = local_up.first_up.stdout.split("Finance Report (local) on this machine - what ran, and what did not:")[1]
    for part in ("Pulumi", "OpenBao", "Dokploy API"):
        assert re.search(rf"^\s+real\s+{part}:", summary, re.M), part
    assert re.search(r"^\s+simulated\s+deployments: recorded, not executed\. No container runs here", summary, re.M)
    answering, not_served = summary.split("Not served here")
    assert URL.findall(not_served) == [APP_URL]
    assert re.search(rf"^\s+app\s+{re.escape(APP_URL)}$", not_served, re.M)

    urls = URL.findall(answering)
    dokploy = local_up.clone.dokploy_url
    assert urls == [f"{dokploy}/", f"{dokploy}/api/project.all", f"{local_up.clone.vault_address}/v1/sys/health"]
    headers = {"x-api-key": local_up.clone.dokploy_key}  # as the line says: the API wants the key
    for url in urls:
        r = httpx.get(url, headers=headers if "/api/" in url else {}, follow_redirects=True, timeout=10)
        assert r.status_code == 200, (url, r.status_code)
    assert "Owner API key" in httpx.get(f"{dokploy}/", follow_redirects=True).text  # the dashboard's login


def test_dashboard_shows_each_compose_and_its_latest_deployment(local_up: LocalUp, dashboard: Dashboard) -> None:
    composes = local_up.compose_ids()
    assert set(composes) == {"postgres", "redis", "app"}
    dashboard.open("/")
    assert "deployments are simulated" in dashboard.section("simulated")
    for name, compose_id in composes.items():
        row = dashboard.compose_row(compose_id)
        assert row.get_attribute("data-compose-name") == name
        latest = local_up.latest_deployment(compose_id)
        assert dashboard.latest_in_row(compose_id) == (latest["deploymentId"], "done"), name
    assert "report-local.localhost.localdomain/api" in dashboard.compose_row(composes["app"]).text
    dashboard.shot("01-overview")

    for name, compose_id in composes.items():
        dashboard.open(f"/compose/{compose_id}")
        latest = local_up.latest_deployment(compose_id)
        assert dashboard.deployments()[0] == (latest["deploymentId"], "done"), name
        assert "simulated, no container is run" in dashboard.section("deployments")
        assert "services:" in dashboard.section("compose-file")
        env_text = local_up.clone.api("compose.one", composeId=compose_id)["env"] or ""
        for variable in re.findall(r"^([A-Z_]*TOKEN[A-Z_]*)=", env_text, re.M):  # a token in its env is masked
            assert re.search(rf"{variable}\s+•••• hidden", dashboard.section("env")), (name, variable)
    dashboard.open(f"/compose/{composes['app']}")
    assert "finance_report-backend:local" in dashboard.section("compose-file")
    assert "report-local.localhost.localdomain" in dashboard.section("domains")
    dashboard.shot("02-compose-app")

    dashboard.open("/requests")
    assert "compose.deploy" in dashboard.driver.page_source
    dashboard.shot("03-request-log")
    assert_no_leak("\n".join(dashboard.pages), local_up.secrets(), "the dashboard's pages")


def test_after_a_one_tag_change_the_page_shows_the_new_deployment_done(local_up: LocalUp, dashboard: Dashboard) -> None:
    clone = local_up.clone
    app = local_up.compose_ids()["app"]
    before = local_up.latest_deployment(app)["deploymentId"]
    clone.pulumi("config", "set", "--stack", "local", "financeReport:imageTag", "local-2", env=clone.stack_env())
    make(clone, "up")

    new = local_up.latest_deployment(app)
    assert new["deploymentId"] != before
    dashboard.open("/")
    assert dashboard.latest_in_row(app) == (new["deploymentId"], "done")
    dashboard.shot("04-overview-after-tag-change")
    dashboard.open(f"/compose/{app}")
    assert [d for d, _ in dashboard.deployments()[:2]] == [new["deploymentId"], before]
    assert "finance_report-backend:local-2" in dashboard.section("compose-file")
    dashboard.shot("05-compose-app-after-tag-change")
    assert_no_leak("\n".join(dashboard.pages), local_up.secrets(), "the dashboard's pages")
