"""The vendored request schemas are Dokploy's OpenAPI request schemas for the emulated procedures."""

from __future__ import annotations

import json

from dokploy_local.procedures import EMULATED_PROCEDURES, HANDLERS
from dokploy_local.schemas.openapi_extract import DEFAULT_OPENAPI, VENDORED, extract
from dokploy_local.schemas.responses import SUCCESS


def test_vendored_copy_matches_openapi() -> None:
    assert json.loads(VENDORED.read_text()) == extract(json.loads(DEFAULT_OPENAPI.read_text()))


def test_every_emulated_procedure_has_a_handler() -> None:
    assert sorted(HANDLERS) == sorted(EMULATED_PROCEDURES)


def test_every_procedure_with_an_answer_has_a_response_schema() -> None:
    assert sorted(set(EMULATED_PROCEDURES) - set(SUCCESS)) == ["compose.cancelDeployment"]
