"""The real Pulumi engine, end to end, on a program holding a Python dynamic resource.

This is the Foundation's proof that `.tools/bin/pulumi` (built from the Go module proxy) runs the
Python language host, the dynamic-provider plugin and a Python policy pack with a file backend.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from tests.support.pulumi_cli import PULUMI, VENV, PulumiCLI, make_project, pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]

PROVIDER = '''
"""A dynamic provider that keeps its "remote" object in a JSON file, so the test can see it."""
import json
import pathlib
import uuid

from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult


class FileObjectProvider(ResourceProvider):
    def create(self, props):
        oid = uuid.uuid4().hex
        path = pathlib.Path(props["dir"]) / f"{oid}.json"
        path.write_text(json.dumps({"message": props["message"]}))
        return CreateResult(oid, {**props, "path": str(path)})

    def diff(self, _id, olds, news):
        changes = olds.get("message") != news.get("message")
        return DiffResult(changes=changes, replaces=[], delete_before_replace=False)

    def update(self, _id, olds, news):
        pathlib.Path(olds["path"]).write_text(json.dumps({"message": news["message"]}))
        return UpdateResult({**news, "path": olds["path"]})

    def delete(self, _id, props):
        pathlib.Path(props["path"]).unlink(missing_ok=True)
'''

PROGRAM = """
import pulumi
from pulumi.dynamic import Resource

from fileobject import FileObjectProvider


class FileObject(Resource):
    def __init__(self, name, props, opts=None):
        super().__init__(FileObjectProvider(), name, {**props, "path": None}, opts)


cfg = pulumi.Config()
obj = FileObject("greeting", {"dir": cfg.require("dir"), "message": cfg.get("message") or "hello"})
pulumi.export("path", obj.path)
"""

POLICY = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def message_is_set(args, report_violation):
    if args.resource_type == "pulumi-python:dynamic:Resource" and not args.props.get("message"):
        report_violation("every file object needs a message")


PolicyPack(
    name="foundation-test-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="message-is-set",
            description="Dynamic file objects carry a message.",
            validate=message_is_set,
        )
    ],
)
"""


def test_pinned_version_matches_python_sdk() -> None:
    from subprocess import run

    pinned = (Path(__file__).resolve().parents[2] / "tools/pulumi-build/PULUMI_VERSION").read_text().strip()
    printed = run([str(PULUMI), "version"], capture_output=True, text=True, check=True).stdout.strip()
    assert printed == f"v{pinned}"
    assert importlib.metadata.version("pulumi") == pinned  # the SDK and the CLI are one version
    lock = (Path(__file__).resolve().parents[2] / "requirements.lock").read_text()
    assert f"pulumi=={pinned}\n" in lock


def foundation_stack(tmp_path: Path) -> tuple[PulumiCLI, Path]:
    """The FileObject project with a `dev` stack whose objects live in tmp/remote (returned with it)."""
    remote = tmp_path / "remote"
    remote.mkdir()
    cli = make_project(tmp_path, PROGRAM, name="foundation", files={"fileobject.py": PROVIDER})
    cli.run("stack", "init", "dev")
    cli.run("config", "set", "dir", str(remote), "--stack", "dev")
    return cli, remote


def policy_pack(tmp_path: Path, source: str) -> Path:
    """A Python policy pack in tmp/policy running `source`, on the repository's virtualenv."""
    policy_dir = tmp_path / "policy"
    policy_dir.mkdir()
    (policy_dir / "PulumiPolicy.yaml").write_text(
        f"description: one rule\nruntime:\n  name: python\n  options:\n    virtualenv: {VENV}\n"
    )
    (policy_dir / "__main__.py").write_text(source)
    return policy_dir


def test_full_lifecycle_with_dynamic_resource_and_policy_pack(tmp_path: Path) -> None:
    cli, remote = foundation_stack(tmp_path)
    policy_dir = policy_pack(tmp_path, POLICY)

    preview = cli.preview("dev")
    assert "+ 2 to create" in preview.stdout or "2 to create" in preview.stdout
    assert list(remote.iterdir()) == []  # a preview changes nothing

    cli.up("dev")
    files = list(remote.iterdir())
    assert len(files) == 1
    assert json.loads(files[0].read_text()) == {"message": "hello"}
    assert cli.outputs("dev")["path"] == str(files[0])

    cli.preview("dev", "--expect-no-changes")

    policy_preview = cli.preview("dev", "--policy-pack", str(policy_dir))
    assert "foundation-test-policy" in policy_preview.stdout
    assert "message-is-set" not in policy_preview.stdout  # the rule ran and reported nothing

    cli.run("config", "set", "message", "changed", "--stack", "dev")
    changed = cli.preview("dev", "--expect-no-changes", check=False)
    assert changed.returncode != 0  # a real change is detected
    cli.up("dev")
    assert json.loads(files[0].read_text()) == {"message": "changed"}

    cli.run("destroy", "--stack", "dev", "--yes")
    assert list(remote.iterdir()) == []
    cli.run("stack", "rm", "dev", "--yes")
    listed = cli.run("stack", "ls", "--json").stdout
    assert json.loads(listed) == []


def test_policy_violation_blocks_preview(tmp_path: Path) -> None:
    """The policy pack is live, not decorative: an empty message is a mandatory violation."""
    cli, _ = foundation_stack(tmp_path)
    policy_dir = policy_pack(tmp_path, POLICY.replace('args.props.get("message")', "False"))
    result = cli.preview("dev", "--policy-pack", str(policy_dir), check=False)
    assert result.returncode != 0
    assert "every file object needs a message" in result.stdout + result.stderr
