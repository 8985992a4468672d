"""Our own errors (Dokploy's and Vault's) reach the `pulumi` CLI from a dynamic provider as their one line.

The host (pulumi/dynamic/__main__.py) aborts the RPC with `traceback.format_exc()` for every exception and
offers no message-only path, so for one of our errors this RPC's `abort` is told to send the message instead.
Only this call's context changes; outside the host (unit tests) nothing does. A bug keeps its traceback.
Subclass `OneLineErrors` (instead of `ResourceProvider`) and set `line_errors` to the error types that are one
line by construction and name no secret (`DokployError`, `VaultError`): every provider method of the subclass
reports those so.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from pulumi.dynamic import ResourceProvider

# The provider methods the dynamic-provider host calls (its servicer wraps each in `_abort_with_traceback`).
PROVIDER_METHODS = ("check", "diff", "create", "read", "update", "delete")
HOST_FILE = os.path.join("pulumi", "dynamic", "__main__.py")


def _host_context(frame: FrameType | None) -> Any:
    """The gRPC context of the host's servicer call this provider method runs in, or None."""
    while frame is not None:
        context = frame.f_locals.get("context")
        if frame.f_code.co_filename.endswith(HOST_FILE) and callable(getattr(context, "abort", None)):
            return context
        frame = frame.f_back
    return None


def report_as_line(method: Callable[..., Any], ours: tuple[type[Exception], ...]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ours as exc:
            context = _host_context(sys._getframe(1))
            if context is not None:
                abort, message = context.abort, str(exc)
                context.abort = lambda code, _details: abort(code, message)
            raise

    return wrapper


class OneLineErrors(ResourceProvider):
    line_errors: tuple[type[Exception], ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in PROVIDER_METHODS:
            if name in cls.__dict__:
                setattr(cls, name, report_as_line(cls.__dict__[name], cls.line_errors))
