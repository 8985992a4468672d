"""The environment model: every valid stack name, the invalid ones, and config overrides."""

from __future__ import annotations

import json

import pytest

from components.environment import (
    PREVIEW_PROJECT,
    PROJECT,
    ConfigError,
    DataServices,
    GithubSide,
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


# --- additions for the FinanceReport component (issue 7) ------------------------------------------


def test_vault_paths_and_service_hosts_are_per_environment() -> None:
    env = environment_for("pr-7")
    assert env.vault_path("pr-7") == "finance_report/pr-7/pr-7"
    assert env.vault_api_path("pr-7") == "secret/data/finance_report/pr-7/pr-7"
    assert env.service_host("postgres") == "finance_report-postgres-pr-7"
    assert environment_for("local").service_host("redis") == "finance_report-redis-local"


@pytest.mark.parametrize(
    ("strip", "public", "backend"),
    [(False, "/api/health", "/api/health"), (True, "/api/health", "/health"), (True, "/apiary", "/apiary")],
)
def test_backend_path_follows_strip_prefix(strip: bool, public: str, backend: str) -> None:
    env = environment_for("staging", {"imageTag": "sha-abc1234", "stripApiPrefix": str(strip)})
    assert env.routing.backend_path(public) == backend


def test_owner_stacks_own_both_shared_projects() -> None:
    assert environment_for("staging", {"imageTag": "sha-abc1234"}).shared_projects == (PROJECT, PREVIEW_PROJECT)
    assert environment_for("local").shared_projects == (PROJECT, PREVIEW_PROJECT)
    assert environment_for("production", {"imageTag": "v1.0.0"}).shared_projects == ()
    assert environment_for("pr-7").shared_projects == ()


def test_adoption_config() -> None:
    adopt = {
        "projects": {"finance_report": "proj-1"},
        "environment": "pMoEBQzZLZPWb1XwlvaNh",
        "composes": {"app": "A6V-hbJlgHMwgPDoTDnhH"},
        "domains": {"api": "d1"},
    }
    env = environment_for("staging", {"imageTag": "sha-abc1234", "adopt": adopt})
    assert env.adoption.project("finance_report") == "proj-1"
    assert env.adoption.project("finance_report-preview") is None
    assert env.adoption.environment == "pMoEBQzZLZPWb1XwlvaNh"
    assert env.adoption.compose("app") == "A6V-hbJlgHMwgPDoTDnhH" and env.adoption.compose("redis") is None
    assert env.adoption.domain("api") == "d1"
    assert environment_for("staging", {"imageTag": "sha-abc1234", "adopt": json.dumps(adopt)}).adoption == env.adoption


@pytest.mark.parametrize(
    ("stack", "adopt", "fragment"),
    [
        ("pr-7", {"composes": {"pr-7": "x"}}, "adopts nothing"),
        ("production", {"projects": {"finance_report": "p"}}, "only the stack that owns"),
        ("staging", {"composes": {"web": "x"}}, "names ['web']"),
        ("staging", {"environment": "not an id!"}, "not a Dokploy id"),
        ("staging", {"stuff": {}}, "unknown keys"),
        ("staging", "[1, 2]", "not an object"),
    ],
)
def test_bad_adoption_config_is_one_line(stack: str, adopt: object, fragment: str) -> None:
    tags = {"staging": "sha-abc1234", "production": "v1.0.0", "pr-7": "pr-7-abc1234"}
    with pytest.raises(ConfigError) as exc:
        environment_for(stack, {"imageTag": tags[stack], "adopt": adopt})
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_project_reference_and_data_path() -> None:
    env = environment_for("production", {"imageTag": "v1.0.0", "projectId": "abc_DEF-123", "dataPath": "/data/fr/"})
    assert env.project_ref == "abc_DEF-123"
    assert env.data_path == "/data/fr"
    with pytest.raises(ConfigError, match="owns the shared projects"):
        environment_for("staging", {"imageTag": "sha-abc1234", "projectId": "abc"})
    with pytest.raises(ConfigError, match="throwaway"):
        environment_for("pr-7", {"dataPath": "/data"})
    with pytest.raises(ConfigError, match="absolute host path"):
        environment_for("staging", {"imageTag": "sha-abc1234", "dataPath": "data/../x"})
    with pytest.raises(ConfigError, match="never own"):
        environment_for("pr-7", {"ownsProjects": "true"})


def test_vault_agent_address_defaults_to_the_stacks_vault() -> None:
    env = environment_for("staging", {"imageTag": "sha-abc1234", "vaultAddress": "https://vault.example.org/"})
    assert env.vault_address == env.vault_agent_address == "https://vault.example.org"
    env = environment_for("local", {"vaultAddress": "http://127.0.0.1:8300", "vaultAgentAddress": "http://vault:8200"})
    assert env.vault_agent_address == "http://vault:8200"
    with pytest.raises(ConfigError, match="not an http"):
        environment_for("local", {"vaultAgentAddress": "vault:8200"})


@pytest.mark.parametrize("tag", ["v1.2.3\n", "v1.2.3 ", " v1.2.3", "v01.2.3"])
def test_release_tag_must_match_exactly(tag: str) -> None:
    with pytest.raises(ConfigError, match="not a release tag"):
        environment_for("production", {"imageTag": tag})


def test_owner_stacks_are_the_ones_the_model_makes_owners() -> None:
    from components.environment import owner_stacks

    tags = {"staging": "sha-abc1234", "production": "v1.0.0", "local": "local"}
    assert owner_stacks() == ("staging", "local")
    for stack, tag in tags.items():
        assert environment_for(stack, {"imageTag": tag}).owns_projects is (stack in owner_stacks())


# What each stack says about how it differs, field by field (the modules read these, never the kind).
_TAGS = {"pr-7": "pr-7-abc1234", "staging": "sha-abc1234", "production": "v1.0.0", "local": "local"}


@pytest.mark.parametrize(
    ("stack", "data"),
    [
        ("pr-7", DataServices(bundled=True, own_minio=True, operator_keys=False)),
        ("staging", DataServices(bundled=False, own_minio=False, operator_keys=True)),
        ("production", DataServices(bundled=False, own_minio=False, operator_keys=True)),
        ("local", DataServices(bundled=False, own_minio=True, operator_keys=False)),
    ],
)
def test_data_services_per_stack(stack: str, data: DataServices) -> None:
    env = environment_for(stack, {"imageTag": _TAGS[stack]})
    assert env.data == data
    # A bundled environment is one compose; the others deploy postgres and redis before app.
    assert env.services == ((stack,) if data.bundled else ("postgres", "redis", "app"))


@pytest.mark.parametrize(
    ("stack", "app_compose"), [("pr-7", "pr-7"), ("staging", "app"), ("production", "app"), ("local", "app")]
)
def test_app_compose_per_stack(stack: str, app_compose: str) -> None:
    env = environment_for(stack, {"imageTag": _TAGS[stack]})
    assert env.app_compose == app_compose
    assert env.app_compose in env.services


@pytest.mark.parametrize(
    ("stack", "app_names"),
    [
        ("pr-7", {"pr-7": "finance-report-pr-7"}),
        ("staging", {"postgres": "fr-staging-postgres", "redis": "fr-staging-redis", "app": "fr-staging-app"}),
        (
            "production",
            {"postgres": "fr-production-postgres", "redis": "fr-production-redis", "app": "fr-production-app"},
        ),
        ("local", {"postgres": "fr-local-postgres", "redis": "fr-local-redis", "app": "fr-local-app"}),
    ],
)
def test_compose_app_names_per_stack(stack: str, app_names: dict[str, str]) -> None:
    env = environment_for(stack, {"imageTag": _TAGS[stack]})
    assert {s: env.compose_app_name(s) for s in env.services} == app_names


@pytest.mark.parametrize(
    ("stack", "floating"), [("pr-7", ()), ("staging", ("staging",)), ("production", ()), ("local", ())]
)
def test_floating_tags_per_stack(stack: str, floating: tuple[str, ...]) -> None:
    assert environment_for(stack, {"imageTag": _TAGS[stack]}).floating_tags == floating


@pytest.mark.parametrize(
    ("stack", "github"),
    [
        ("pr-7", GithubSide(supported=True, own_environment=True, readonly_variables=False)),
        ("staging", GithubSide(supported=True, own_environment=False, readonly_variables=False)),
        ("production", GithubSide(supported=True, own_environment=False, readonly_variables=True)),
        ("local", GithubSide(supported=False, own_environment=False, readonly_variables=False)),
    ],
)
def test_github_side_per_stack(stack: str, github: GithubSide) -> None:
    assert environment_for(stack, {"imageTag": _TAGS[stack]}).github == github


def test_github_side_is_not_a_config_switch() -> None:
    # manageGithub turns the manager on or off; what a stack's GitHub plan is stays the model's.
    env = environment_for("local", {"manageGithub": "true"})
    assert env.managers.github is True
    assert env.github.supported is False


@pytest.mark.parametrize(
    ("stack", "pattern"), [("pr-7", "pr-7-{sha7}"), ("staging", "sha-{sha7}"), ("production", None), ("local", None)]
)
def test_commit_tag_pattern_per_stack(stack: str, pattern: str | None) -> None:
    from components.environment import commit_tag_pattern

    env = environment_for(stack, {"imageTag": _TAGS[stack]})
    assert env.commit_tag_pattern == commit_tag_pattern(stack) == pattern
    if pattern is not None:  # the tag built from a commit is one the model accepts
        tag = pattern.format(sha7="abc1234")
        assert environment_for(stack, {"imageTag": tag}).image_tag == tag


@pytest.mark.parametrize(
    ("tag", "number"),
    [("pr-7-abc1234", 7), ("pr-120-0000000", 120), ("pr-0-abc1234", None), ("pr-7-abc123", None),
     ("pr-7-ABC1234", None), ("pr-7-abc1234-x", None), ("v1.2.3", None), ("sha-abc1234", None), ("staging", None)],
)  # fmt: skip
def test_pr_of_image_tag_reads_back_what_a_pr_stack_builds(tag: str, number: int | None) -> None:
    """The reaper finds PR images by this: exactly the tags `commit_tag_pattern` makes for `pr-<N>`."""
    from components.environment import commit_tag_pattern, pr_of_image_tag

    assert pr_of_image_tag(tag) == number
    if number is not None:
        assert str(commit_tag_pattern(f"pr-{number}")).format(sha7=tag[-7:]) == tag


# Sites: where a stack's servers are decides its base domain's default and whether GitHub is managed.


def test_local_defaults_to_the_local_base_domain_without_config() -> None:
    from components.environment import Site

    env = environment_for("local")
    assert (env.site, env.host, env.managers.github) == (Site.LOCAL, "report-local.localhost.localdomain", False)


def test_a_pr_stack_on_the_local_site_gets_the_local_domain_and_no_github() -> None:
    from components.environment import Site

    hosted = environment_for("pr-7")
    assert (hosted.site, hosted.host, hosted.managers.github) == (Site.HOSTED, "report-pr-7.zitian.party", True)
    local = environment_for("pr-7", {"site": "local"})
    assert (local.site, local.host, local.managers.github) == (Site.LOCAL, "report-pr-7.localhost.localdomain", False)
    # everything else about a PR environment stays a PR environment's
    assert (local.dokploy_project, local.services, local.protect_data) == (PREVIEW_PROJECT, ("pr-7",), False)
    assert environment_for("pr-7", {"site": "local", "baseDomain": "example.org"}).host == "report-pr-7.example.org"


@pytest.mark.parametrize(
    ("stack", "site", "fragment"),
    [
        ("staging", "local", "stack staging cannot run on the local site; it runs on hosted"),
        ("production", "local", "stack production cannot run on the local site"),
        ("local", "hosted", "stack local cannot run on the hosted site; it runs on local"),
        ("pr-7", "moon", "config site='moon' is not a site; set it to hosted or local"),
    ],
)
def test_a_site_the_stack_cannot_use_is_one_line(stack: str, site: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as exc:
        environment_for(stack, {"imageTag": _TAGS[stack], "site": site})
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)
