"""Every generated compose file validates against the Compose schema, with the real check-jsonschema CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.compose import ComposeSchemaError, validate
from tests.compose.conftest import files_of
from tests.support.pulumi_cli import VENV

CHECK = [str(VENV / "bin" / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]


def test_every_file_passes_check_jsonschema(stack: str, tmp_path: Path) -> None:
    paths = []
    for f in files_of(stack):
        path = tmp_path / f"{stack}-{f.name}.yml"
        path.write_text(f.text)
        paths.append(str(path))
    proc = subprocess.run([*CHECK, *paths], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_validator_rejects_what_the_cli_rejects(tmp_path: Path) -> None:
    text = files_of("staging")[2].text
    broken = yaml.safe_load(text)
    broken["services"]["backend"]["deploy"]["update_config"]["order"] = 3  # must be a string
    bad = yaml.safe_dump(broken)
    with pytest.raises(ComposeSchemaError, match="update_config"):
        validate(bad)
    (tmp_path / "bad.yml").write_text(bad)
    assert subprocess.run([*CHECK, str(tmp_path / "bad.yml")], capture_output=True, check=False).returncode == 1
