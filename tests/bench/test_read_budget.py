"""What an unchanged `preview` and a `preview --refresh` cost on Dokploy (issue 17, acceptance 2).

Real CLI on a copy of the repository brought up as `make up` does; requests counted from the local server's
request log. An unchanged preview writes nothing and reads only the preflight's reads, the same ones whatever
else is on the server; `preview --refresh` writes nothing and reads each managed object at most once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.floor_shape import is_dokploy
from tests.stacks.clone import Clone
from tests.support.pulumi_cli import pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def _requests(clone: Clone, *args: str) -> Counter[tuple[str, str]]:
    """(procedure, read|write) -> count, for one `pulumi` run on the local stack."""
    seq = clone.last_seq()
    clone.pulumi(*args, "--stack", "local", "--expect-no-changes", "--suppress-progress", env=clone.stack_env())
    log = clone.control("requests", since=seq)["requests"]
    return Counter((str(r["procedure"]), str(r["kind"])) for r in log)


VERSION = ("settings.getDokployVersion", "read")


def _without_version(requests: Counter[tuple[str, str]]) -> int:
    return sum(n for key, n in requests.items() if key != VERSION)


def _managed(clone: Clone) -> list[dict[str, Any]]:
    return [r for r in clone.stack_export("local")["deployment"]["resources"] if is_dokploy(r)]


def test_unchanged_preview_reads_only_preflight_and_refresh_reads_each_object_once(tmp_path: Path) -> None:
    clone = Clone.create(tmp_path)
    try:
        clone.script("up.sh")
        preview = _requests(clone, "preview")
        assert not [k for k in preview if k[1] != "read"], f"an unchanged preview wrote to Dokploy: {preview}"
        assert sum(preview.values()) <= 3, f"an unchanged preview read more than the preflight: {preview}"

        # Neighbours on the server (other stacks' projects) change nothing of what the preview reads.
        clone.run(
            ".venv/bin/python", "-c",
            "import httpx, sys; httpx.post(sys.argv[1] + '/__local/seed', headers={'x-api-key': sys.argv[2]},"
            " json={'projects': 20, 'environments_per_project': 1, 'composes_per_environment': 3,"
            " 'domains_per_compose': 1, 'deployments_per_compose': 1}).raise_for_status()",
            clone.dokploy_url, clone.dokploy_key,
        )  # fmt: skip
        assert _requests(clone, "preview") == preview

        refresh = _requests(clone, "preview", "--refresh")
        assert not [k for k in refresh if k[1] != "read"], f"preview --refresh wrote to Dokploy: {refresh}"
        managed = _managed(clone)
        assert managed, "the local stack's state names no Dokploy resource"
        # The version read proves the server once per process (the program's preflight, the provider's first call).
        assert refresh[VERSION] <= 2, f"the version was read {refresh[VERSION]} times: {refresh}"
        object_reads = _without_version(refresh) - _without_version(preview)
        assert object_reads <= len(managed), (
            f"preview --refresh read {object_reads} times beyond the preflight for {len(managed)} managed "
            f"Dokploy objects: {refresh}"
        )
    finally:
        clone.script("local-servers.sh", "stop", check=False)
