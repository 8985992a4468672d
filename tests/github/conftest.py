"""Provider plugins, as the components' pre-flight check sees them: installed (faked) or absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.plugins import sdk_plugin_version
from tests.github.mocking import fake_plugin


@pytest.fixture
def no_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "pulumi-home"
    home.mkdir()
    monkeypatch.setenv("PULUMI_HOME", str(home))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no ambient pulumi-resource-* binaries
    return home


@pytest.fixture
def plugins(no_plugins: Path) -> Path:
    fake_plugin(no_plugins, "github", sdk_plugin_version("pulumi_github"))
    return no_plugins
