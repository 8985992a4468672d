"""Progress and warnings from inside the provider, through Pulumi's logging.

In a dynamic provider `pulumi.log` has no engine (the provider process configures its settings without one) and
falls back to printing on stderr. The engine does start the provider with its own address as the first argument,
so this module sends `Log` requests to that address itself: messages then show in `pulumi up` like any other
diagnostic. Outside a provider (tests, scripts) or when that fails, `pulumi.log`'s stderr fallback is used.
Messages must already be free of secrets (the client scrubs what it raises; progress lines carry ids only).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

import pulumi

_lock = threading.Lock()
_engine: Any = None
_looked = False
_ADDRESS = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\]):\d+$")


def _engine_stub() -> Any:
    """An Engine client for the address the engine gave this provider process, or None."""
    global _engine, _looked
    with _lock:
        if not _looked:
            _looked = True
            address = next((a for a in sys.argv[1:] if _ADDRESS.match(a)), "")
            if address:
                try:
                    import grpc
                    from pulumi.runtime.proto import engine_pb2_grpc

                    _engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
                except Exception:
                    _engine = None
        return _engine


def _log(severity_name: str, message: str) -> None:
    # In the program process pulumi.log has its engine; in a dynamic provider it has none, so go to the engine
    # directly, and fall back to pulumi.log's stderr output when that fails.
    if pulumi.runtime.settings.get_engine() is not None or not _to_engine(severity_name, message):
        (pulumi.log.warn if severity_name == "WARNING" else pulumi.log.info)(message)


def _to_engine(severity_name: str, message: str) -> bool:
    stub = _engine_stub()
    if stub is None:
        return False
    try:
        from pulumi.runtime.proto import engine_pb2

        severity = getattr(engine_pb2, severity_name)
        stub.Log(engine_pb2.LogRequest(severity=severity, message=message, urn="", streamId=0), timeout=5)
    except Exception:  # the engine refused or is gone: the caller falls back to stderr
        return False
    return True


def info(message: str) -> None:
    _log("INFO", message)


def warn(message: str) -> None:
    _log("WARNING", message)
