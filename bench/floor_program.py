"""The floor program: the shape of a real stack (a JSON file written by bench.floor_shape) with a
dynamic provider that makes no request. Run by the Pulumi CLI from a generated project directory.

Every component of the real stack becomes a ComponentResource of the same type and parent; every custom
resource becomes one dynamic resource with the same name, parent and `depends_on`. `BENCH_FLOOR_REV` changes the
input of the resources the shape marks `changes` (a one-tag change touches one compose), so `up` updates them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


class NoRequestProvider(ResourceProvider):
    """Answers from its inputs and state alone: what the engine costs when the provider costs nothing."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props["name"]), outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        mine = {k: v for k, v in olds.items() if not k.startswith("__")}
        theirs = {k: v for k, v in news.items() if not k.startswith("__")}
        return DiffResult(changes=mine != theirs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Node(Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(NoRequestProvider(), name, props, opts)


class Component(pulumi.ComponentResource):
    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(type_, name, None, opts)


def main() -> None:
    shape = json.loads(Path(os.environ["BENCH_FLOOR_SHAPE"]).read_text())
    rev = os.environ.get("BENCH_FLOOR_REV", "0")
    made: dict[str, pulumi.Resource] = {}
    for node in shape["resources"]:
        parent = made.get(node["parent"] or "")
        depends = [made[u] for u in node["dependencies"] if u in made]
        opts = pulumi.ResourceOptions(parent=parent, depends_on=depends or None)
        if node["custom"]:
            props = {"name": node["name"], "rev": rev if node.get("changes") else "0"}
            made[node["urn"]] = Node(node["name"], props, opts)
        else:
            made[node["urn"]] = Component(node["type"], node["name"], opts)


main()
