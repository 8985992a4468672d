"""A refused config value is named by the key a user sets (`financeReport:<key>`, `vault:address`), not the model's."""

from __future__ import annotations

import pytest

from components.environment import ConfigError, config_key, environment_for
from components.github import GithubConfigError, Reviewers


@pytest.mark.parametrize(
    ("stack", "config", "message"),
    [
        (
            "local",
            {"deployTimeoutSeconds": "soon"},
            "config financeReport:deployTimeoutSeconds='soon' is not an integer",
        ),
        ("local", {"deployTimeoutSeconds": "0"}, "config financeReport:deployTimeoutSeconds=0 is below 1"),
        ("local", {"stripApiPrefix": "maybe"}, "config financeReport:stripApiPrefix='maybe' is not a boolean"),
        ("local", {"baseDomain": "not a domain"}, "config financeReport:baseDomain='not a domain' is not a DNS name"),
        (
            "local",
            {"vaultAgentAddress": "ftp://x"},
            "config financeReport:vaultAgentAddress='ftp://x' is not an http(s)",
        ),
        ("local", {"vaultAddress": "vault"}, "config vault:address (or VAULT_ADDR)='vault' is not an http(s) URL"),
        ("staging", {"imageTag": "sha-abc1234", "projectId": "x y"}, "config financeReport:projectId='x y' is not a"),
        ("staging", {"imageTag": "sha-abc1234", "adopt": "[]"}, "config financeReport:adopt is not an object"),
    ],
)
def test_messages_name_the_key_to_set(stack: str, config: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        environment_for(stack, config)
    assert str(err.value).startswith(message)


def test_model_keys_map_to_the_keys_users_set() -> None:
    assert config_key("deployTimeoutSeconds") == "financeReport:deployTimeoutSeconds"
    assert config_key("adopt.projects") == "financeReport:adopt.projects"
    assert config_key("vaultAddress") == "vault:address"


def test_the_missing_reviewers_message_names_the_key_and_the_make_target() -> None:
    with pytest.raises(GithubConfigError) as err:
        Reviewers().validate("staging")
    assert "set financeReport:productionReviewers on this stack" in str(err.value)
    assert "`make init-stack STACK=staging REVIEWERS=<login>`" in str(err.value)
