"""Run a piece of the program under `pulumi.runtime.set_mocks` and record every registration.

The recording monitor keeps what `MockResourceArgs` leaves out (protect, parent, provider), so tests can
check ownership and protection, not just inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

PROJECT = "finance_report"
GITHUB_USER_IDS = {"alice": 101, "bob": 102}
GITHUB_TEAM_IDS = {"release-managers": 501}


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    protect: bool = False
    parent: str = ""
    provider: str = ""


@dataclass
class Recorder(pulumi.runtime.Mocks):
    resources: list[Registered] = field(default_factory=list)
    invokes: list[MockCallArgs] = field(default_factory=list)
    options: dict[tuple[str, str], tuple[bool, str, str]] = field(default_factory=dict)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.resources.append(Registered(args.typ, args.name, dict(args.inputs), bool(args.custom)))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        self.invokes.append(args)
        if args.token == "github:index/getUser:getUser":
            return {"id": str(GITHUB_USER_IDS[args.args["username"]]), "login": args.args["username"]}, []
        if args.token == "github:index/getTeam:getTeam":
            return {"id": str(GITHUB_TEAM_IDS[args.args["slug"]]), "slug": args.args["slug"]}, []
        raise AssertionError(f"unexpected invoke {args.token}")

    # ---- views -------------------------------------------------------------------------------------
    def custom(self, type_: str | None = None) -> list[Registered]:
        """Custom (real) resources, providers excluded unless asked for by type."""
        return [
            r
            for r in self.resources
            if r.custom and (r.type == type_ if type_ else not r.type.startswith("pulumi:providers:"))
        ]

    def one(self, type_: str, **match: Any) -> Registered:
        found = [r for r in self.custom(type_) if all(r.inputs.get(k) == v for k, v in match.items())]
        assert len(found) == 1, f"expected one {type_} matching {match}, found {len(found)}: {found}"
        return found[0]


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Recorder) -> None:
        super().__init__(mocks)
        self.recorder = mocks

    def RegisterResource(self, request: Any) -> Any:
        # Registrations run concurrently on executor threads: key the options by (type, name), not by order.
        self.recorder.options[(request.type, request.name)] = (bool(request.protect), request.parent, request.provider)
        return super().RegisterResource(request)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def reveal(value: Any) -> Any:
    """A mock input with its secret wrappers removed (check `is_secret` first where it matters)."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def install(stack: str) -> Recorder:
    """Point the Pulumi runtime at a fresh recorder for stack `stack`."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(recorder))
    return recorder


def execute(recorder: Recorder, program: Callable[[], Any]) -> None:
    """Run `program` and wait for its registrations; exceptions from the program propagate."""
    try:
        pulumi.runtime.test(program)()
    finally:
        for r in recorder.resources:
            r.protect, r.parent, r.provider = recorder.options[(r.type, r.name)]


def run(stack: str, program: Callable[[], Any]) -> Recorder:
    recorder = install(stack)
    execute(recorder, program)
    return recorder


def fake_plugin(home: Path, name: str, version: str) -> None:
    """What `pulumi plugin install` leaves behind, as far as our check (and the engine's lookup) goes."""
    directory = home / "plugins" / f"resource-{name}-v{version}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"pulumi-resource-{name}").write_text("#!/bin/sh\nexit 1\n")
