"""The reaper's Vault side against a real OpenBao: a reaped PR's KV secrets are purged (every version and
the metadata), its neighbours' and staging's are untouched."""

from __future__ import annotations

import hvac
import pytest

from components.environment import environment_for
from ops.orphans import PreviewSecrets
from tests.support.openbao import OpenBao


def test_purge_deletes_the_prs_secrets_and_nothing_else(running_openbao: OpenBao) -> None:
    admin = running_openbao.client()
    if "secret/" not in admin.sys.list_mounted_secrets_engines()["data"]:
        admin.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    kv = admin.secrets.kv.v2
    paths = ["finance_report/pr-7/pr-7", "finance_report/pr-7/nested/x", "finance_report/pr-70/pr-70"]
    paths.append("finance_report/staging/app")
    for path in paths:
        kv.create_or_update_secret(path=path, secret={"k": "v"}, mount_point="secret")
        kv.create_or_update_secret(path=path, secret={"k": "v2"}, mount_point="secret")  # two versions
    env = environment_for("pr-7")
    gone = PreviewSecrets(running_openbao.address, running_openbao.root_token, mount=env.vault_mount).purge(
        env.vault_prefix
    )
    assert sorted(gone) == ["finance_report/pr-7/nested/x", "finance_report/pr-7/pr-7"]
    for path in paths[:2]:
        with pytest.raises(hvac.exceptions.InvalidPath):
            kv.read_secret_metadata(path=path, mount_point="secret")
    for path in paths[2:]:
        assert kv.read_secret_version(path=path, mount_point="secret", raise_on_deleted_version=True)["data"]["data"]
    # a second run finds nothing and fails on nothing
    assert PreviewSecrets(running_openbao.address, running_openbao.root_token).purge(env.vault_prefix) == []
