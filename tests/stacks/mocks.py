"""Run the program's wiring (`components.program.build`) under Pulumi mocks and record what it registers.

A legacy in-process transformation on the top-level components sees every resource with its options, so
the tests can check protection and explicit dependencies as well as inputs; the mock monitor sees the
inputs as serialized, so secrets are still marked there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc

from components.environment import Environment
from components.program import Checked, build
from components.vault.connection import VaultConnection

FAKE_DIGEST = "sha256:" + "ab" * 32
MOCK_TOKEN = "mock-vault-token-"


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]  # as the monitor saw them: secrets still wrapped
    protect: bool = False
    depends_on: list[str] = field(default_factory=list)
    parent: str | None = None

    def plain(self, key: str) -> Any:
        value = self.inputs.get(key)
        return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value

    def is_secret(self, key: str) -> bool:
        return rpc.is_rpc_secret(self.inputs.get(key))


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.by_name: dict[str, Registered] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        rec = self.by_name.setdefault(args.name, Registered(args.typ, args.name, {}))
        rec.type, rec.inputs = args.typ, dict(args.inputs)
        rid = f"{args.name}-id"
        state = dict(args.inputs)
        # What the providers would answer: ids for every kind (only the matching one is read), a token.
        for key in ("project_id", "environment_id", "compose_id", "domain_id", "deployment_id", "accessor"):
            if not state.get(key):
                state[key] = rid
        state["token"] = MOCK_TOKEN + args.name
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def capture(self, args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts
        deps = [getattr(d, "_name", "?") for d in (opts.depends_on or [])] if isinstance(opts.depends_on, list) else []
        rec = self.by_name.setdefault(args.name, Registered(args.type_, args.name, {}))
        rec.protect = bool(opts.protect)
        rec.depends_on = deps
        rec.parent = getattr(opts.parent, "_name", None)
        return None

    # --- queries ---------------------------------------------------------------------------------

    def dynamic(self) -> Iterator[Registered]:
        return (r for r in self.by_name.values() if r.type == "pulumi-python:dynamic:Resource")

    def text(self) -> str:
        """Every input of every resource, secrets unwrapped, as one string (for isolation checks)."""
        inputs = {n: {k: _plain(v) for k, v in r.inputs.items() if k != "__provider"} for n, r in self.by_name.items()}
        return json.dumps(inputs, default=str)


def _plain(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run_program(env: Environment, *, project_id: str | None, config: dict[str, str] | None = None) -> Recorder:
    """Build the stack's resources under mocks and wait until every registration is done."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="finance-report", stack=env.stack, preview=False)
    pulumi.runtime.set_all_config(config or {})
    checked = Checked(project_id=project_id, resolver=lambda _image, _tag: FAKE_DIGEST)
    opts = pulumi.ResourceOptions(transformations=[recorder.capture])

    @pulumi.runtime.test
    def program() -> Any:
        report = build(env, checked, VaultConnection(address="http://127.0.0.1:1"), opts)
        return pulumi.Output.all(report.environment_id, report.compose_ids, report.images).apply(lambda _: None)

    program()
    return recorder


Check = Callable[[Recorder], None]
