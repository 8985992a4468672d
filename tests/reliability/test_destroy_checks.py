"""Objects deleted by hand, and destroy checks before it deletes (issue 16), on a throwaway copy of the repo.

`make up` of local. A compose deleted by hand, then a KV secret deleted by hand: the next `make up` notices
each (one `project.all`, one KV listing) and creates it again; a preview after it shows no change. Then pr-7
in the shared preview project, and:
- `make destroy` (local) is refused in one line while pr-7 lives in a project local owns;
- destroy of pr-7 with the Dokploy server down is refused, and with OpenBao down is refused;
each time nothing was written to Dokploy and the stack's state still holds every resource. With the servers
back, pr-7 and then local are destroyed completely. No known secret in the state or any output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.reliability import report
from tests.reliability.harness import admit_pr_stack, dokploy_logs, kv_secrets, leaks_in, pulumi_logs
from tests.stacks.clone import Clone, Run
from tests.stacks.test_local_stack import _up_pr
from tests.support.leaks import secrets_in_export
from tests.support.pulumi_cli import pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def _resource_count(clone: Clone, stack: str, env: dict[str, str]) -> int:
    return len(clone.stack_export(stack)["deployment"].get("resources") or [])


def _refused(run: Run, needle: str) -> str:
    assert run.returncode != 0, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    lines = [line for line in run.stderr.strip().splitlines() if "refused" in line]
    assert len(lines) == 1 and needle in lines[0], run.output[-3000:]
    return lines[0]


def _kill_dokploy(clone: Clone) -> None:
    pid = int((clone.root / ".local" / "dokploy" / "pid").read_text())
    os.kill(pid, signal.SIGTERM)
    subprocess.run(["timeout", "10", "tail", f"--pid={pid}", "-f", "/dev/null"], check=False)


def test_destroy_refuses_what_it_could_not_finish(tmp_path: Path) -> None:
    clone = Clone.create(tmp_path)
    try:
        _scenario(clone)
    finally:
        clone.script("local-servers.sh", "stop", check=False)


def _scenario(clone: Clone) -> None:
    clone.script("up.sh")
    _deleted_by_hand(clone)
    _changed_by_hand(clone)
    root_token = (clone.openbao_dir / "root-token").read_text().strip()
    admit_pr_stack(clone.vault_address, root_token, 7, clone.openbao_dir / "stack-pr-7.token")
    pr_env = clone.stack_env("stack-pr-7.token")
    _up_pr(clone, "pr-7", pr_env)
    secrets = _secrets(clone, pr_env)
    before = clone.dokploy_snapshot()
    local_count, pr_count = _resource_count(clone, "local", pr_env), _resource_count(clone, "pr-7", pr_env)

    # make destroy of local while pr-7 lives in the preview project local owns.
    seq = clone.last_seq()
    line = _refused(clone.script("stack.sh", "destroy", check=False), "still holds environment(s) pr-7")
    assert clone.writes_since(seq) == [] and clone.dokploy_snapshot() == before
    assert _resource_count(clone, "local", pr_env) == local_count
    _record("destroy-refused-other-stack-in-owned-project", "`make destroy` of local while pr-7 is up", line)

    # destroy of pr-7 with the Dokploy server down.
    _kill_dokploy(clone)
    line = _refused(clone.script("stack.sh", "destroy", "pr-7", env=pr_env, check=False), "cannot connect")
    assert _resource_count(clone, "pr-7", pr_env) == pr_count
    clone.script("local-servers.sh", "start")
    assert clone.dokploy_snapshot() == before
    _record("destroy-refused-dokploy-down", "destroy of pr-7, the Dokploy server stopped", line)

    # destroy of pr-7 with OpenBao down.
    clone.run(".venv/bin/python", "-m", "ops.openbao_server", "stop", "--data-dir", ".local/openbao")
    seq = clone.last_seq()
    line = _refused(clone.script("stack.sh", "destroy", "pr-7", env=pr_env, check=False), "Vault at")
    assert clone.writes_since(seq) == [] and clone.dokploy_snapshot() == before
    assert _resource_count(clone, "pr-7", pr_env) == pr_count
    clone.script("local-servers.sh", "start")
    _record("destroy-refused-vault-down", "destroy of pr-7, OpenBao stopped", line)

    # Servers back: both destroys go through, completely.
    clone.script("stack.sh", "destroy", "pr-7", env=pr_env)
    clone.script("stack.sh", "destroy")
    counts = clone.control("counts")
    assert {k: counts[k] for k in ("projects", "environments", "composes", "domains")} == dict.fromkeys(
        ("projects", "environments", "composes", "domains"), 0
    )
    assert clone.vault_envs() == set()
    places = {
        "state": clone.state_text(),
        "CLI output": "\n".join(clone.transcript),
        "our logs": pulumi_logs(clone.home),
    }
    requests = clone.control("requests")["requests"]
    leaks = leaks_in({**places, **dokploy_logs(requests, clone.root / ".local" / "dokploy")}, secrets)
    assert not leaks, leaks


def _secrets(clone: Clone, pr_env: dict[str, str]) -> set[str]:
    """Both stacks' secrets while they are up: keys and tokens, what they generated in Vault, their state's."""
    found = {clone.dokploy_key, (clone.openbao_dir / "root-token").read_text().strip()}
    found |= {(clone.openbao_dir / f).read_text().strip() for f in ("stack-local.token", "stack-pr-7.token")}
    for stack in ("local", "pr-7"):
        found |= kv_secrets(clone.vault(), stack)
        export = clone.pulumi("stack", "export", "--stack", stack, "--show-secrets", env=pr_env, record=False).stdout
        found |= secrets_in_export(json.loads(export))
    return found


def _app_compose(clone: Clone) -> list[str]:
    snapshot = clone.dokploy_snapshot()
    return [k.split(":", 1)[1] for k, v in snapshot.items() if k.startswith("compose:") and v["name"] == "app"]


def _deleted_by_hand(clone: Clone) -> None:
    """The app compose deleted in Dokploy and the app's KV secret in Vault; one `make up` recreates both."""
    (app_id,) = _app_compose(clone)
    before = clone.control("counts")
    httpx.post(
        f"{clone.dokploy_url}/api/compose.delete",
        json={"composeId": app_id, "deleteVolumes": True},
        headers={"x-api-key": clone.dokploy_key},
    ).raise_for_status()
    vault = clone.vault()
    path = "finance_report/local/app"
    vault.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point="secret")
    seq = clone.last_seq()
    up = clone.script("up.sh")
    assert "object(s) of stack local are gone" in up.stdout, up.stdout
    (new_id,) = _app_compose(clone)
    assert new_id != app_id
    counts = clone.control("counts")
    kinds = ("projects", "environments", "composes", "domains")
    assert {k: counts[k] for k in kinds} == {k: before[k] for k in kinds}
    data = vault.secrets.kv.v2.read_secret_version(path=path, mount_point="secret", raise_on_deleted_version=True)
    assert data["data"]["data"], "the KV secret was not created again"
    del seq
    clone.script("stack.sh", "preview")  # --expect-no-changes: nothing left over
    # What the check costs, whatever the number of objects: one listing (and the version, once per process).
    seq = clone.last_seq()
    assert (
        clone.run(".venv/bin/python", "-m", "ops.missing_objects", "--stack", "local", env=clone.stack_env()).stdout
        == "\n"
    )
    reads = [r["procedure"] for r in clone.control("requests", since=seq)["requests"]]
    assert sorted(reads) in (["project.all"], ["project.all", "settings.getDokployVersion"]), reads
    lists = [r for r in reads if r == "project.all"]
    _record_scenario(
        "compose-deleted-by-hand",
        "the app compose deleted in Dokploy, then `make up`",
        f"noticed and recreated ({app_id} -> {new_id}); the check reads {len(lists)} project.all, whatever the size; "
        "then `make preview` expects no changes",
        f"{before['composes']} composes, {before['domains']} domains / {counts['composes']}, {counts['domains']}",
    )
    _record_scenario(
        "kv-secret-deleted-by-hand",
        f"secret/{path} deleted in Vault (metadata and versions), then `make up` (no --target)",
        "noticed (one KV listing) and recreated with every key; then `make preview` expects no changes",
        "1 secret / 1",
    )


def _changed_by_hand(clone: Clone) -> None:
    """The app compose's file and a domain's port edited in Dokploy: `make preview` notices and says how to
    put them back; `make up REFRESH=1` does; `make preview` is clean again."""
    before = clone.dokploy_snapshot()
    (app_id,) = _app_compose(clone)
    domain_id, domain = next((k, v) for k, v in before.items() if k.startswith("domain:") and v["composeId"] == app_id)
    edits = {
        "compose.update": {"composeId": app_id, "composeFile": before[f"compose:{app_id}"]["composeFile"] + "\n# x\n"},
        "domain.update": {
            "domainId": domain_id.split(":", 1)[1],
            "host": domain["host"],
            "port": int(domain["port"]) + 1,
        },
    }
    for procedure, body in edits.items():
        httpx.post(
            f"{clone.dokploy_url}/api/{procedure}", json=body, headers={"x-api-key": clone.dokploy_key}
        ).raise_for_status()
    preview = clone.script("stack.sh", "preview", check=False)
    assert preview.returncode != 0, preview.output[-3000:]
    said = [line for line in preview.stderr.splitlines() if line.startswith("make preview:")]
    assert len(said) == 1 and "REFRESH=1" in said[0], preview.output[-3000:]
    assert "Traceback" not in preview.output
    clone.script("up.sh", env={"REFRESH": "1"})
    after = clone.dokploy_snapshot()
    assert after[f"compose:{app_id}"] == before[f"compose:{app_id}"] and after[domain_id] == domain
    clone.script("stack.sh", "preview")  # clean again
    _record_scenario(
        "objects-changed-by-hand",
        "the app compose's file and its domain's port edited in Dokploy, then `make preview`, `make up REFRESH=1`",
        f"{said[0]}; `make up REFRESH=1` put both back (same ids), then `make preview` is clean",
        "1 compose, 1 domain restored / restored",
    )


def _record_scenario(case_id: str, what: str, message: str, objects: str) -> None:
    report.scenario(case_id, "blind spot", what, message, objects=objects)


def _record(case_id: str, what: str, line: str) -> None:
    report.scenario(case_id, "destroy", what, line, objects="unchanged / unchanged (state and server)")
