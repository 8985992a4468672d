"""What the dashboard hides: secret values in env text and compose files.

A value is hidden when its variable's name says it is a credential (`VAULT_APP_TOKEN`, `POSTGRES_PASSWORD`,
`S3_SECRET_KEY`...; not `*_FILE`/`*_PATH`, which name where a secret is), and a URL's password
(`postgresql://user:<hidden>@host`) is hidden wherever it appears. Names, line structure and `${VAR}`
references stay visible: they are what a reader needs to see what is wired to what. Hiding by name errs on
the side of hiding (`MONKEY` counts): a dashboard that shows a little less is cheaper than one that leaks.
"""

from __future__ import annotations

import re

MASK = "•••• hidden"

SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSW(OR)?D|PASS|PWD|KEY|CREDENTIAL|AUTH|PRIVATE|SALT|COOKIE|SESSION|DSN)",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<password>[^@\s/]+)(?=@)")
# `NAME=value` (env files, compose list form) and `NAME: value` (compose map form), optionally `- ` and quotes.
_ASSIGNMENT = re.compile(
    r"^(?P<lead>\s*(?:-\s*)?(?:export\s+)?[\"']?)(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>[\"']?\s*[:=]\s*)(?P<value>.*)$"
)
# `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:?message}` (compose interpolation), quoted or not.
_REFERENCE = re.compile(r"^[\"']?\$\{?[A-Za-z_][A-Za-z0-9_]*(:?[-?+=][^}]*)?\}?[\"']?$")


_LOCATION = re.compile(r"_(FILE|PATH)$", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not _LOCATION.search(name)


def _mask_value(value: str) -> str:
    stripped = value.strip()
    if not stripped or _REFERENCE.match(stripped):
        return value  # empty, or a reference to another variable: no secret in it
    return MASK


def mask_line(line: str) -> str:
    """One line of env or compose text with its secret value (if any) hidden."""
    line = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, line)
    found = _ASSIGNMENT.match(line)
    if found and is_secret_name(found.group("name")) and not line.lstrip().startswith("#"):
        return found.group("lead") + found.group("name") + found.group("sep") + _mask_value(found.group("value"))
    return line


def mask_text(text: str | None) -> str:
    return "\n".join(mask_line(line) for line in (text or "").splitlines())


def env_pairs(text: str | None) -> list[tuple[str, str, bool]]:
    """`NAME=value` lines as (name, shown value, hidden?) for a table; other lines are left out."""
    out = []
    for line in (text or "").splitlines():
        name, sep, value = line.partition("=")
        name = name.strip().removeprefix("export ").strip()
        if not sep or not name or name.startswith("#"):
            continue
        shown = mask_line(f"{name}={value}").partition("=")[2]
        out.append((name, shown, shown != value))
    return out
