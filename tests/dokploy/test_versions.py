"""The version policy (components/dokploy/versions.py), for the version strings Dokploy has shipped, and through
the imitation presenting each of them (its `dokploy_version` knob)."""

from __future__ import annotations

import pytest

from components.dokploy import versions
from components.dokploy.client import ClientSettings, DokployClient
from components.dokploy.errors import UnsupportedVersionError
from dokploy_local.testing import LocalDokploy


@pytest.mark.parametrize("raw", ["v0.25.0", "v0.25.11", "v0.28.1", "v0.30.0", "v0.30.2", "v0.30.10", "v0.31.0"])
def test_known_versions_are_accepted_silently(raw: str) -> None:
    assert versions.judge(raw) == versions.Verdict(raw)


@pytest.mark.parametrize("raw", ["0.31.4-canary.3", "v0.31.12"])
def test_other_spellings_of_known_versions_normalise(raw: str) -> None:
    verdict = versions.judge(raw)
    assert verdict.version.startswith("v0.31.") and verdict.warning is None


@pytest.mark.parametrize(
    ("raw", "needle"),
    [("v0.24.12", "environments arrived in v0.25.0"), ("v0.28.0", "slash paths"), ("v1.0.0", "new major version")],
)
def test_refused_versions_say_why_and_what_to_do(raw: str, needle: str) -> None:
    with pytest.raises(UnsupportedVersionError, match=needle) as info:
        versions.judge(raw)
    assert "\n" not in str(info.value)


def test_a_newer_minor_version_is_accepted_with_a_warning_naming_the_contract_suite() -> None:
    verdict = versions.judge("v0.32.0")
    assert verdict.version == "v0.32.0"
    assert verdict.warning is not None and "make contract" in verdict.warning and "v0.31.x" in verdict.warning


@pytest.mark.parametrize(
    ("presented", "outcome"),
    [("v0.25.0", "v0.25.0"), ("v0.28.0", "refused"), ("v0.30.7", "v0.30.7"), ("v0.31.0", "v0.31.0")],
)
def test_the_client_applies_the_policy_to_what_the_server_presents(
    dokploy: LocalDokploy, presented: str, outcome: str
) -> None:
    dokploy.set_knobs(dokploy_version=presented)
    settings = ClientSettings(url=dokploy.url, api_key=dokploy.api_key)
    with DokployClient(settings) as c:
        if outcome == "refused":
            with pytest.raises(UnsupportedVersionError):
                c.mutate("project.create", {"name": "x"}, repeat_safe=False)
            assert dokploy.count_objects()["projects"] == 0  # refused before any change
        else:
            assert c.server_version() == outcome
