"""What every Dokploy dynamic provider shares: config at call time, field-precise diffs, create-and-locate.

Provider classes hold no state that is serialized: the engine pickles the provider *instance* into every
resource's state by reference to its class (this module is importable, not `__main__`), so a later
`refresh` or `destroy` runs the code as it is then. The stack config arrives through `configure` in
the provider process only (dynamic providers receive the whole stack config), and each method builds
its own client from it and the environment.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, ConfigureRequest, DiffResult, ReadResult
from pulumi.output import Unknown

from components.dokploy.client import CONFIG_KEY, CONFIG_SERVER, CONFIG_URL, ENV_SERVER, DokployClient, resolve_settings
from components.dokploy.errors import (
    AmbiguousMarkerError,
    DokployBadRequestError,
    DokployError,
    DokployNotFoundError,
    UncertainWriteError,
)
from components.dokploy.markers import marker_for
from components.provider_errors import OneLineErrors

try:  # the sentinel the engine uses for values not known yet during preview
    from pulumi.runtime.rpc import UNKNOWN
except ImportError:  # pragma: no cover
    UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

Props = dict[str, Any]


def is_unknown(value: Any) -> bool:
    # Dynamic providers see unknowns as `pulumi.output.Unknown` objects (the raw sentinel only over the wire).
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


class DokployProvider(OneLineErrors):
    """Base class: config from `configure`, a fresh client per call."""

    serialize_as_secret_always = False  # nothing secret is captured: the pickle is a reference to the class
    line_errors = (DokployError,)

    def configure(self, req: ConfigureRequest) -> None:
        # Runs in the provider process after unpickling; never serialized.
        self._config = {k: req.config.get(k) for k in (CONFIG_URL, CONFIG_KEY, CONFIG_SERVER)}

    def _stack_config(self) -> dict[str, Any]:
        return dict(getattr(self, "_config", None) or {})

    def client(self, secrets: Iterable[str] = ()) -> DokployClient:
        return DokployClient(resolve_settings(self._stack_config()), secrets=secrets)

    def default_server_id(self) -> str | None:
        value = self._stack_config().get(CONFIG_SERVER) or os.environ.get(ENV_SERVER)
        return str(value) if value else None


def field_diff(olds: Props, news: Props, fields: Sequence[str], replace_fields: Iterable[str] = ()) -> DiffResult:
    """Changed = the input differs from the last known live value (state outputs after create/refresh)."""
    replace_set = set(replace_fields)
    changed = [f for f in fields if olds.get(f) != news.get(f)]
    replaces = [f for f in changed if f in replace_set]
    return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)


def adopt_replacement(id_: str, news: Props) -> DiffResult | None:
    """An `adopt_id` naming another object than the one managed means: manage that one instead."""
    adopt = news.get("adopt_id")
    if adopt and not is_unknown(adopt) and adopt != id_:
        return DiffResult(changes=True, replaces=["adopt_id"], stables=[], delete_before_replace=True)
    return None


def failures_for(errors: Mapping[str, str]) -> list[CheckFailure]:
    return [CheckFailure(k, v) for k, v in errors.items()]


def create_or_adopt(
    *,
    kind: str,
    find: Callable[[], list[Props]],
    create: Callable[[], Props],
    ident: Callable[[Props], str],
    attempts: int = 3,
) -> tuple[Props, bool]:
    """Create-and-locate. Returns (object, created).

    Before creating, and after any create whose outcome is unknown, look for objects carrying the marker:
    one is adopted, several is an error naming them, none means the create did not happen and may be sent
    again (a verified absence, not a blind repeat).
    """

    def located() -> Props | None:
        found = find()
        if len(found) > 1:
            ids = ", ".join(sorted(ident(o) for o in found))
            raise AmbiguousMarkerError(
                f"{len(found)} Dokploy {kind}s carry the marker of this resource ({ids}); delete the extra ones "
                "in Dokploy (or adopt one with adopt_id) and run again"
            )
        return found[0] if found else None

    existing = located()
    if existing is not None:
        return existing, False
    last: UncertainWriteError | None = None
    for _ in range(attempts):
        try:
            return create(), True
        except UncertainWriteError as exc:
            last = exc
            existing = located()
            if existing is not None:
                return existing, False
    assert last is not None
    raise last


@dataclass(frozen=True)
class Parent:
    """Where an adopted object must sit: its row's `field` must equal the `prop` input (e.g. projectId/project_id).

    `relation` and `hint` only shape the error message, which names both parents.
    """

    kind: str
    field: str
    prop: str
    relation: str = "belongs to"
    hint: bool = True

    def check(self, kind: str, adopt_id: str, row: Props, props: Props) -> None:
        actual, declared = row.get(self.field), props[self.prop]
        if actual != declared:
            fix = f"; fix adopt_id or {self.prop}" if self.hint else ""
            raise DokployError(
                f"{kind} {adopt_id} {self.relation} {self.kind} {actual}, not {declared}{fix}",
                procedure=f"{kind}.one",
            )


def adopt_or_locate(
    c: DokployClient,
    props: Props,
    *,
    kind: str,
    one: Callable[[DokployClient, str], Props],
    find: Callable[[], list[Props]],
    create: Callable[[], Props],
    ident: Callable[[Props], str],
    parent: Parent | None = None,
) -> tuple[Props, bool]:
    """The object a create manages. Returns (object, created).

    With `adopt_id`: that object, which must sit under the declared `parent`. Otherwise create-and-locate
    by the marker (`create_or_adopt`).
    """
    adopt_id = props.get("adopt_id")
    if adopt_id:
        row = one(c, adopt_id)
        if parent is not None:
            parent.check(kind, adopt_id, row, props)
        return row, False
    return create_or_adopt(kind=kind, find=find, create=create, ident=ident)


def read_or_gone(
    c: DokployClient,
    id_: str,
    props: Props,
    *,
    one: Callable[[DokployClient, str], Props],
    outputs: Callable[[Props, Props], Props],
    gone: tuple[type[DokployError], ...] = (DokployNotFoundError,),
) -> ReadResult:
    """A provider's `read`: the live object's outputs, or an empty result (deleted) when it is `gone`."""
    try:
        row = one(c, id_)
    except gone:
        return ReadResult("", {})
    return ReadResult(id_, outputs(row, props))


@contextlib.contextmanager
def missing_as_not_found(message: str, *, procedure: str) -> Iterator[None]:
    """Some updates answer 400 when the object is missing: raise such a 400 as the not-found it is, with `message`."""
    try:
        yield
    except DokployBadRequestError as exc:
        if "not found" in str(exc).lower():
            raise DokployNotFoundError(message, procedure=procedure, status=404) from None
        raise


def resource_marker(kind: str, resource_name: str) -> str:
    """The marker of a resource being declared in the program (project/stack/kind/name)."""
    return marker_for(pulumi.get_project(), pulumi.get_stack(), kind, resource_name)


def with_outputs(props: Props, outputs: Iterable[str]) -> Props:
    """Declare outputs (None) so the resource class exposes them as attributes."""
    out = dict(props)
    for name in outputs:
        out.setdefault(name, None)
    return out
