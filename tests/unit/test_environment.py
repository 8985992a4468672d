"""The environment model: every valid stack name, the invalid ones, and config overrides."""

from __future__ import annotations

import pytest

from components.environment import (
    PREVIEW_PROJECT,
    PROJECT,
    ConfigError,
    ImagePolicy,
    Kind,
    environment_for,
)


def test_pr_stack_needs_no_config_file() -> None:
    env = environment_for("pr-7")
    assert env.kind is Kind.PREVIEW
    assert env.pr_number == 7
    assert env.host == "report-pr-7.zitian.party"
    assert env.dokploy_project == PREVIEW_PROJECT
    assert env.dokploy_environment == "pr-7"
    assert env.services == ("pr-7",)
    assert env.protect_data is False
    assert env.delete_volumes_on_destroy is True
    assert env.owns_projects is False
    assert env.vault_prefix == "finance_report/pr-7"
    assert env.managers.registry is False


def test_staging() -> None:
    env = environment_for("staging", {"imageTag": "sha-abc1234"})
    assert env.kind is Kind.STAGING
    assert env.host == "report-staging.zitian.party"
    assert env.dokploy_project == PROJECT
    assert env.services == ("postgres", "redis", "app")
    assert env.protect_data is True
    assert env.image("backend") == "ghcr.io/wangzitian0/finance_report-backend:sha-abc1234"
    assert env.owns_projects is True


def test_production() -> None:
    env = environment_for("production", {"imageTag": "v1.0.45"})
    assert env.host == "report.zitian.party"
    assert env.url == "https://report.zitian.party"
    assert env.adopt_default_environment is True
    assert env.image_policy is ImagePolicy.VERIFY_DIGEST
    assert env.protect_data is True
    assert env.managers.registry is True
    assert env.owns_projects is False


def test_local_keeps_structure_not_protection() -> None:
    env = environment_for("local")
    assert env.services == ("postgres", "redis", "app")
    assert env.protect_data is False
    assert env.image_policy is ImagePolicy.LOCAL_TAG
    assert env.managers.github is False
    assert env.managers.registry is False


def test_frontend_api_url_has_no_api_suffix() -> None:
    # The frontend calls `${NEXT_PUBLIC_API_URL}/api/...`; a trailing /api would give /api/api (seed bug).
    env = environment_for("staging", {"imageTag": "sha-abc1234"})
    assert env.api_url == "https://report-staging.zitian.party"
    assert not env.api_url.endswith("/api")


@pytest.mark.parametrize(
    "name", ["", "pr-0", "pr-", "pr-07", "pr-x", "PR-7", "prod", "Production", "staging2", "pr-7-extra", "dev"]
)
def test_invalid_stack_names_list_the_valid_ones(name: str) -> None:
    with pytest.raises(ConfigError) as exc:
        environment_for(name)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "pr-<N>" in msg and "staging" in msg and "production" in msg and "local" in msg


def test_production_requires_release_tag() -> None:
    with pytest.raises(ConfigError, match=r"production image tag 'sha-abc1234' is not a release tag vX.Y.Z"):
        environment_for("production", {"imageTag": "sha-abc1234"})
    with pytest.raises(ConfigError, match="needs financeReport:imageTag"):
        environment_for("production")
    with pytest.raises(ConfigError, match="not a release tag"):
        environment_for("production", {"imageTag": "v1.2"})


def test_pr_tag_must_belong_to_its_pr() -> None:
    with pytest.raises(ConfigError, match="pr-7-<7 hex>"):
        environment_for("pr-7", {"imageTag": "pr-8-abcdef0"})
    assert environment_for("pr-7", {"imageTag": "pr-7-abcdef0"}).image_tag == "pr-7-abcdef0"


def test_config_overrides() -> None:
    env = environment_for(
        "staging",
        {
            "imageTag": "sha-0123456",
            "baseDomain": "example.org",
            "vaultMount": "kv",
            "stripApiPrefix": "true",
            "healthPath": "/api/healthz",
            "deployTimeoutSeconds": "60",
            "manageGithub": "false",
        },
    )
    assert env.host == "report-staging.example.org"
    assert env.vault_mount == "kv"
    assert env.routing.strip_api_prefix is True
    assert env.routing.health_path == "/api/healthz"
    assert env.deploy_timeout_seconds == 60
    assert env.managers.github is False


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"baseDomain": "not a domain"}, "baseDomain"),
        ({"stripApiPrefix": "maybe"}, "stripApiPrefix"),
        ({"deployTimeoutSeconds": "soon"}, "deployTimeoutSeconds"),
        ({"deployTimeoutSeconds": "0"}, "deployTimeoutSeconds"),
        ({"apiPath": "api/"}, "apiPath"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(config: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as exc:
        environment_for("local", config)
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)


def test_environment_is_frozen() -> None:
    env = environment_for("local")
    with pytest.raises(AttributeError):
        env.host = "elsewhere"  # type: ignore[misc]
