"""The vendored OpenAPI document is the one vendor/dokploy/README.md names, and its refresh script keeps it so."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dokploy_local.procedures.catalog import EMULATED_PROCEDURES
from tests.dokploy.openapi_check import REPO, SPEC_PATH, procedures_in_code

README = SPEC_PATH.parent / "README.md"


def recorded(readme: Path, field: str) -> str:
    found = re.search(rf"^- {field}: (.+)$", readme.read_text(), re.M)
    assert found, f"{readme} names no {field}"
    return found.group(1).strip()


def test_the_readme_records_the_vendored_files_checksum() -> None:
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == recorded(README, "sha256")


def test_the_document_holds_every_procedure_the_client_calls_and_the_local_server_emulates() -> None:
    paths = json.loads(SPEC_PATH.read_text())["paths"]
    assert sorted(p for p in procedures_in_code() | set(EMULATED_PROCEDURES) if f"/{p}" not in paths) == []


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".venv", ".tools", ".git", ".pulumi-state", ".local", "__pycache__", "node_modules")
    shutil.copytree(REPO, root, ignore=ignore)
    (root / ".venv").symlink_to(REPO / ".venv")
    return root


def refresh(root: Path, source: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/refresh-dokploy-openapi.sh", str(source), version],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_refresh_replaces_the_document_and_updates_the_readme_and_the_extract(repo_copy: Path, tmp_path: Path) -> None:
    doc = json.loads(SPEC_PATH.read_text())
    doc["paths"]["/compose.create"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"][
        "newField"
    ] = {"type": "string"}
    newer = tmp_path / "openapi-newer.json"
    newer.write_text(json.dumps(doc))
    res = refresh(repo_copy, newer, "v0.31.0")
    assert res.returncode == 0, res.stdout + res.stderr
    vendored = repo_copy / "vendor" / "dokploy" / "openapi.json"
    assert vendored.read_bytes() == newer.read_bytes()
    readme = repo_copy / "vendor" / "dokploy" / "README.md"
    assert recorded(readme, "sha256") == hashlib.sha256(newer.read_bytes()).hexdigest()
    assert recorded(readme, "dokploy version") == "v0.31.0" and recorded(readme, "source") == str(newer)
    extract = json.loads((repo_copy / "dokploy_local" / "schemas" / "requests.json").read_text())
    assert extract["compose.create"]["properties"]["newField"] == {"type": "string"}


def test_refresh_refuses_a_document_without_a_procedure_the_client_calls(repo_copy: Path, tmp_path: Path) -> None:
    doc = json.loads(SPEC_PATH.read_text())
    del doc["paths"]["/compose.deploy"]
    older = tmp_path / "openapi-older.json"
    older.write_text(json.dumps(doc))
    before = (repo_copy / "vendor" / "dokploy" / "README.md").read_text()
    res = refresh(repo_copy, older, "v0.24.0")
    assert res.returncode == 1
    assert "lacks procedures this project uses: compose.deploy" in res.stderr
    assert (repo_copy / "vendor" / "dokploy" / "openapi.json").read_bytes() == SPEC_PATH.read_bytes()
    assert (repo_copy / "vendor" / "dokploy" / "README.md").read_text() == before
