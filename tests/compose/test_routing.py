"""Routing per environment: hosts, paths, ports, strip, the URL the frontend calls and the route it lands on."""

from __future__ import annotations

import pytest
import yaml

from components.compose import Images, Route, domains, plan, resolve
from components.environment import environment_for
from tests.compose.conftest import env_of, files_of

EXPECTED_HOST = {
    "pr-7": "report-pr-7.zitian.party",
    "staging": "report-staging.zitian.party",
    "production": "report.zitian.party",
    "local": "report-local.localhost.localdomain",
}


def _frontend_api_url(stack: str) -> str:
    """NEXT_PUBLIC_API_URL exactly as the rendered compose gives it to the frontend."""
    for f in files_of(stack):
        services = yaml.safe_load(f.text)["services"]
        if "frontend" in services:
            return str(services["frontend"]["environment"]["NEXT_PUBLIC_API_URL"])
    raise AssertionError("no frontend")


def test_routing_table(stack: str) -> None:
    env = env_of(stack)
    host = EXPECTED_HOST[stack]
    compose = "pr-7" if stack == "pr-7" else "app"
    table = {
        (d.compose, d.service_name, d.host, d.path, d.port, d.strip_path, d.https, d.certificate_type)
        for d in domains(env)
    }
    assert table == {
        (compose, "backend", host, "/api", 8000, False, True, "letsencrypt"),
        (compose, "frontend", host, "/", 3000, False, True, "letsencrypt"),
    }
    api_url = _frontend_api_url(stack)
    assert api_url == f"https://{host}" == env.api_url
    # The frontend calls `${NEXT_PUBLIC_API_URL}/api/...`; the backend's routers carry /api.
    specs = domains(env)
    assert resolve(specs, f"{api_url}/api/statements?limit=5") == Route("backend", 8000, "/api/statements")
    assert resolve(specs, f"{api_url}/api/health") == Route("backend", 8000, "/api/health")
    assert resolve(specs, f"https://{host}/dashboard") == Route("frontend", 3000, "/dashboard")
    assert resolve(specs, f"https://{host}/apiary") == Route("frontend", 3000, "/apiary")
    assert resolve(specs, f"https://{host}/") == Route("frontend", 3000, "/")
    assert resolve(specs, f"https://report-other.{env.base_domain}/api/health") is None


def test_the_backend_healthcheck_probes_the_path_the_public_health_path_lands_on(stack: str) -> None:
    env = env_of(stack)
    route = resolve(domains(env), f"{env.url}{env.routing.health_path}")
    assert route is not None and route.service_name == "backend"
    for f in files_of(stack):
        services = yaml.safe_load(f.text)["services"]
        if "backend" in services:
            assert services["backend"]["healthcheck"]["test"][-1] == f"http://127.0.0.1:8000{route.path}"


def test_the_seed_double_api_bug_would_be_caught() -> None:
    env = environment_for("staging", {"imageTag": "sha-abc1234"})
    seed_api_url = f"{env.url}/api"  # the seed's NEXT_PUBLIC_API_URL
    route = resolve(domains(env), f"{seed_api_url}/api/statements")
    assert route is not None and route.path == "/api/api/statements"  # not a backend route


@pytest.mark.parametrize("strip", [True, False])
def test_strip_prefix_and_health_path_are_config(strip: bool) -> None:
    config = {"imageTag": "sha-abc1234", "stripApiPrefix": str(strip), "healthPath": "/api/ping"}
    env = environment_for("staging", config)
    (api,) = [d for d in domains(env) if d.service_name == "backend"]
    assert api.strip_path is strip
    expected = "/ping" if strip else "/api/ping"
    assert resolve(domains(env), f"{env.url}/api/ping") == Route("backend", 8000, expected)
    (app,) = [f for f in plan(env, Images(env.image("backend"), env.image("frontend"))) if f.name == "app"]
    assert yaml.safe_load(app.text)["services"]["backend"]["healthcheck"]["test"][-1].endswith(expected)
