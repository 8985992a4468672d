"""Owner API keys (`user.createApiKey` / `user.deleteApiKey`, what `ops rotate dokploy-key` relies on): a new key
works at once; once deleted it gets the same 401 as a wrong key; the owner's key is unaffected throughout."""

from __future__ import annotations

from typing import Any

from tests.contract.api import Api


def test_created_key_works_and_deleted_key_is_refused(api: Api, scratch: dict[str, Any]) -> None:
    organization_id = scratch["project"]["organizationId"]
    metadata = {"organizationId": organization_id}
    created = api.ok("POST", "user.createApiKey", name="contract-rotation", metadata=metadata)
    fresh = api.with_key(created["key"])
    try:
        listed = fresh.ok("GET", "project.all")
        assert scratch["project"]["projectId"] in [p["projectId"] for p in listed]
        assert api.ok("POST", "user.deleteApiKey", apiKeyId=created["id"]) is True
        refused = fresh.get("project.all")
        assert (refused.status_code, refused.json()) == (401, {"message": "Unauthorized"})
        assert api.get("project.all").status_code == 200
    finally:
        fresh.close()


def test_deleting_an_unknown_key_is_404(api: Api) -> None:
    response = api.post("user.deleteApiKey", apiKeyId="no-such-key-000")
    assert response.status_code == 404


def test_new_key_never_in_the_request_log(api: Api, scratch: dict[str, Any], imitation: Any) -> None:
    organization_id = scratch["project"]["organizationId"]
    created = api.ok("POST", "user.createApiKey", name="contract-log", metadata={"organizationId": organization_id})
    api.ok("POST", "user.deleteApiKey", apiKeyId=created["id"])
    assert created["key"] not in repr(imitation.requests())
    assert created["key"] not in (imitation.data_dir / "dokploy.sqlite3").read_bytes().decode("latin-1")
