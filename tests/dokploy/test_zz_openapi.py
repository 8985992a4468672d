"""Issue 4 acceptance 5: every request the client sent in this folder's tests is valid against openapi.json.

Each test already fails on its own invalid requests (conftest: respx calls and the local server's request
log are checked as they are collected). This last test checks the sum: nothing invalid, and every
procedure the provider code calls was exercised at least once, so the check covered all of them.
Named `zz` so pytest runs it after the others in the folder.
"""

from __future__ import annotations

import pytest

from tests.dokploy.conftest import SUITE_LOG
from tests.dokploy.openapi_check import procedures_in_code


def test_every_request_sent_is_valid_and_every_procedure_was_checked() -> None:
    if len(SUITE_LOG.requests) < 50:
        pytest.skip("run the whole folder (pytest tests/dokploy): this sums up the other tests' requests")
    assert SUITE_LOG.invalid == []
    missing = procedures_in_code() - SUITE_LOG.procedures()
    assert not missing, f"procedures the code calls but no test sent: {sorted(missing)}"
