"""The compose policy: a compose must not ask for the host it runs on.

Refused: `privileged`, `cap_add`, `devices`, `security_opt`, host network/pid/ipc/userns namespaces,
bind mounts of host paths (the Docker socket above all), local volumes that bind a host directory, and
secrets/configs read from host files. The exceptions are the environment's own `data_path` (database
directories, as the seed had them) and its vault-agents' credential directory.

How strict is the environment model's (`Environment.compose_policy`): staging, production and local
ENFORCE (refused before anything changes, in code from main); a PR run is ADVISORY (a warning), because a
PR's program is the PR's own and could drop any check it carries. What holds PR composes off the
production host is a separate Dokploy instance for PR environments (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from components.environment import ComposePolicy, ConfigError, Environment

_FLAGS = ("privileged",)
_LISTS = ("cap_add", "devices", "security_opt")
_NAMESPACES = ("network_mode", "pid", "ipc", "userns_mode", "uts", "cgroup")
DOCKER_SOCKET = "docker.sock"


class ComposePolicyError(ConfigError):
    """A compose asks for the host in an environment that enforces the policy (one line, before any change)."""


_HOST_PREFIXES = ("/", ".", "~", "$")


def _bind_source(volume: Any) -> str | None:
    """The host path a service volume binds (short or long syntax), or None for a named volume."""
    if isinstance(volume, str):
        source = volume.split(":", 1)[0] if ":" in volume else ""
        return source if source.startswith(_HOST_PREFIXES) else None
    if isinstance(volume, Mapping):
        source = str(volume.get("source") or "")
        if volume.get("type") == "bind" or source.startswith(_HOST_PREFIXES):
            return source or "(unnamed)"
    return None


def _allowed(source: str, allowed: tuple[str, ...]) -> bool:
    return DOCKER_SOCKET not in source and any(source == a or source.startswith(a + "/") for a in allowed)


def host_access(text: str, allowed_paths: tuple[str, ...] = ()) -> list[str]:
    """Every way a compose file asks for the host, one readable line each (empty: it asks for nothing)."""
    doc = yaml.safe_load(text) or {}
    out: list[str] = []
    for name, svc in (doc.get("services") or {}).items():
        if not isinstance(svc, Mapping):
            continue
        out += [f"service {name} sets {flag}" for flag in _FLAGS if svc.get(flag)]
        out += [f"service {name} sets {key}: {svc[key]}" for key in _LISTS if svc.get(key)]
        out += [
            f"service {name} shares the host's {key.removesuffix('_mode')} namespace"
            for key in _NAMESPACES
            if str(svc.get(key) or "") == "host"
        ]
        for volume in svc.get("volumes") or ():
            source = _bind_source(volume)
            if source is not None and not _allowed(source, allowed_paths):
                out.append(f"service {name} mounts the host path {source}")
    for section in ("secrets", "configs"):  # `file:` reads a host file into the service
        for name, item in (doc.get(section) or {}).items():
            source = str(item.get("file") or "") if isinstance(item, Mapping) else ""
            if source and not _allowed(source, allowed_paths):
                out.append(f"{section.removesuffix('s')} {name} reads the host file {source}")
    for name, vol in (doc.get("volumes") or {}).items():
        opts = (vol.get("driver_opts") or {}) if isinstance(vol, Mapping) else {}
        device = str(opts.get("device") or "(unnamed)")
        if "bind" in str(opts.get("o") or "") and not _allowed(device, allowed_paths):
            out.append(f"volume {name} binds the host path {device}")
    return out


def allowed_host_paths(env: Environment) -> tuple[str, ...]:
    """The host paths an environment's own composes may use: its data directory, its agents' credentials."""
    from components.environment import AgentAuth

    paths = (env.data_path,) if env.data_path else ()
    return paths + ((env.agent_credentials_dir,) if env.agent_auth is AgentAuth.HOST_FILE else ())


def check(env: Environment, files: Iterable[tuple[str, str]], warn: Callable[[str], None] | None = None) -> list[str]:
    """(compose name, text) pairs against the policy: raise where enforced, else warn and return the findings."""
    allowed = allowed_host_paths(env)
    findings = [f"{name}: {f}" for name, text in files for f in host_access(text, allowed)]
    if findings and env.compose_policy is ComposePolicy.ENFORCE:
        raise ComposePolicyError(
            f"stack {env.stack} refuses a compose that asks for the host ({'; '.join(findings)}); "
            "remove it from the template (docs/security.md, compose policy)"
        )
    for finding in findings:
        (warn or _warn)(f"compose policy (advisory in {env.stack}): {finding}")
    return findings


def _warn(message: str) -> None:
    import pulumi

    pulumi.log.warn(message)


def check_environment(env: Environment) -> list[str]:
    """The environment's own composes against the policy (image refs never matter to it: placeholders)."""
    from components.compose.render import plan
    from components.compose.templates import Images

    return check(env, [(f.name, f.text) for f in plan(env, Images("backend", "frontend"))])
