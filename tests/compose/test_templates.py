"""What the templates promise per environment: structure, healthchecks, rolling updates, self-contained secrets."""

from __future__ import annotations

import re

import yaml

from components.compose import Images, plan
from components.environment import AgentAuth, environment_for
from tests.compose.conftest import env_of, files_of


def _docs(stack: str) -> dict[str, dict]:
    return {f.name: yaml.safe_load(f.text) for f in files_of(stack)}


def test_long_lived_environments_have_data_services_and_a_rolling_app(stack: str) -> None:
    if stack == "pr-7":
        return
    env = env_of(stack)
    files = {f.name: f for f in files_of(stack)}
    assert [f.name for f in files_of(stack)] == ["postgres", "redis", "app"]  # deploy order
    assert {n: f.compose_type for n, f in files.items()} == {
        "postgres": "docker-compose",
        "redis": "docker-compose",
        "app": "stack",
    }
    docs = _docs(stack)
    for svc, volume in (("postgres", "postgres_data"), ("redis", "redis_data")):
        service = docs[svc]["services"][svc]
        assert service["healthcheck"]["test"], svc
        assert any(v.startswith(f"{volume}:") for v in service["volumes"])
        assert volume in docs[svc]["volumes"] and not docs[svc]["volumes"][volume].get("external")
        assert docs[svc]["services"][svc]["networks"]["dokploy-network"]["aliases"] == [env.service_host(svc)]
    app = docs["app"]["services"]
    mirror = {"minio-mirror"} if env.backups.enabled else set()  # tests/data/test_backup_plan.py
    assert set(app) == {"vault-agent", "backend", "frontend", *mirror}
    for name in ("backend", "frontend"):
        assert app[name]["deploy"]["update_config"]["order"] == "start-first"
        assert app[name]["healthcheck"]["test"]
    assert app["backend"]["image"] == env.image("backend")
    assert app["frontend"]["image"] == env.image("frontend")
    # Swarm ignores these; nothing may rely on them.
    assert not re.search(r"\b(container_name|depends_on)\b", files["app"].text)
    # Migrations retried in the backend's own entrypoint, after the secrets are there.
    entry = app["backend"]["entrypoint"][-1]
    assert entry.index("/secrets/.env") < entry.index("until alembic upgrade head") < entry.index("exec uvicorn")
    assert "-ge 30" in entry


def test_vault_agent_config_travels_inside_the_compose(stack: str) -> None:
    env = env_of(stack)
    for name, doc in _docs(stack).items():
        agent = doc["services"]["vault-agent"]
        config = agent["environment"]["VAULT_AGENT_CONFIG"]
        assert "./" not in str(agent.get("volumes")), "no file from a git checkout"
        assert f'address = "{env.vault_agent_address}"' in config
        # Exactly one secret: the service's own (its token's policy reads nothing else).
        assert re.findall(r'secret "([^"]+)"', config) == [env.vault_api_path(name)]
        if env.agent_auth is AgentAuth.DOKPLOY_ENV:
            assert agent["environment"]["VAULT_APP_TOKEN"].startswith("${VAULT_APP_TOKEN")
        else:  # AppRole: the public role_id in the entrypoint, the secret_id from the host as a compose secret
            assert "VAULT_APP_TOKEN" not in agent["environment"] and 'method "approle"' in config
            assert agent["secrets"] == ["vault_secret_id"]
            assert doc["secrets"] == {"vault_secret_id": {"file": env.agent_secret_file(name)}}
            assert f"finance_report-{env.name}-{name}" in agent["entrypoint"][-1]
        # Every other service of the file that needs secrets waits for the rendered file, then loads it.
        for svc, spec in doc["services"].items():
            if "secrets:/secrets:ro" in spec.get("volumes", []):
                # The backup's cron job loads it at each run (pg-backup.sh's BACKUP_SECRETS_FILE).
                job = spec.get("environment", {}).get("BACKUP_CRONTAB", "")
                assert ". /secrets/.env" in spec["entrypoint"][-1] or "BACKUP_SECRETS_FILE=/secrets/.env" in job, svc


def test_only_a_pr_s_own_token_comes_from_dokploy_env(stack: str) -> None:
    """Finding 7's root: Dokploy builds its deploy command lines from a compose's env, so staging's,
    production's and local's composes take nothing from it; a PR's takes its own token only."""
    expected = {"VAULT_APP_TOKEN"} if env_of(stack).agent_auth is AgentAuth.DOKPLOY_ENV else set()
    for f in files_of(stack):
        referenced = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", f.text))
        assert referenced == set(f.env_keys) == expected, f.name


def test_preview_is_one_self_contained_compose() -> None:
    (f,) = files_of("pr-7")
    env = env_of("pr-7")
    assert (f.name, f.compose_type) == ("pr-7", "docker-compose")
    doc = yaml.safe_load(f.text)
    services = doc["services"]
    assert set(services) == {"vault-agent", "postgres", "redis", "minio", "minio-init", "backend", "frontend"}
    assert "mc mb --ignore-existing local/statements" in services["minio-init"]["entrypoint"][-1]
    assert services["backend"]["image"] == "ghcr.io/wangzitian0/finance_report-preview-backend:pr-7-abc1234"
    assert services["frontend"]["image"] == "ghcr.io/wangzitian0/finance_report-preview-frontend:pr-7-abc1234"
    # Throwaway data: plain named volumes, deleted with the compose (delete_volumes in the component).
    assert {k for k, v in doc["volumes"].items() if not v} == {"postgres_data", "redis_data", "minio_data"}
    # Unique names on every network, so nothing resolves to another environment's service.
    for svc in ("postgres", "redis", "minio"):
        assert services[svc]["networks"]["default"]["aliases"] == [env.service_host(svc)]
    # Nothing of another environment: no other environment's Vault path, host or shared network.
    assert not re.search(r"staging|production|report\.zitian|dokploy-network", f.text)
    assert set(re.findall(r"finance_report/([^/\"]+)/", f.text)) == {"pr-7"}


def test_data_path_binds_the_live_directories_instead_of_volumes() -> None:
    env = environment_for("production", {"imageTag": "v1.0.45", "dataPath": "/data/finance_report"})
    files = {f.name: yaml.safe_load(f.text) for f in plan(env, Images("b@sha256:" + "0" * 64, "f"))}
    assert (
        files["postgres"]["services"]["postgres"]["volumes"][0]
        == "/data/finance_report/postgres:/var/lib/postgresql/data"
    )
    assert files["redis"]["services"]["redis"]["volumes"][0] == "/data/finance_report/redis:/data"
    assert "postgres_data" not in files["postgres"]["volumes"]
