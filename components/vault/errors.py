"""Typed, one-line Vault errors: they name the address, path and key involved, never a value.

The stacks call these before any Dokploy or GitHub change, so the message is what a user sees first;
`hvac`'s own exceptions are multi-line and may carry a request URL, so they are translated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import hvac.exceptions
import requests


class VaultError(RuntimeError):
    """Base class. `str(exc)` is always exactly one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class VaultConfigError(VaultError):
    """No address, no credentials, or a bad setting: fixed on the caller's side."""


class VaultUnreachable(VaultError):
    """Connection refused, timeout, TLS verification failure, sealed or uninitialised server."""


class VaultAuthError(VaultError):
    """Login failed or the token is invalid/expired."""


class VaultPermissionDenied(VaultError):
    """The identity lacks a capability on a path."""


class VaultNotFound(VaultError):
    """A mount, path or key that should exist does not."""


class MissingProvidedKey(VaultNotFound):
    """A `provided` key (never invented by the program) is missing or empty."""


def sealed(address: str) -> str:
    return (
        f"Vault at {address} is sealed; unseal it first (`bao operator unseal`; the local server: `make up`), "
        "then run the command again"
    )


def _vault_reason(exc: BaseException) -> str:
    # hvac's str() is "<errors joined>, on <method> <url>"; keep the server's reason, drop the URL.
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list | tuple) and errors:
        text = "; ".join(str(e) for e in errors)
    else:
        text = str(exc).split(", on ", 1)[0]
    text = " ".join(text.replace("1 error occurred:", "").replace("*", "").split())
    return text[:200] or type(exc).__name__


@contextmanager
def translated(address: str, what: str) -> Iterator[None]:
    """Turn hvac/requests exceptions raised inside into VaultError subclasses.

    `what` names the operation and path, e.g. "read secret/finance_report/staging/app".
    """
    try:
        yield
    except VaultError:
        raise
    except hvac.exceptions.Forbidden as exc:
        raise VaultPermissionDenied(f"Vault at {address}: permission denied to {what} ({_vault_reason(exc)})") from None
    except hvac.exceptions.Unauthorized as exc:
        raise VaultAuthError(f"Vault at {address}: not authenticated to {what} ({_vault_reason(exc)})") from None
    except hvac.exceptions.InvalidPath as exc:
        raise VaultNotFound(f"Vault at {address}: not found: {what} ({_vault_reason(exc)})") from None
    except (hvac.exceptions.VaultDown, hvac.exceptions.VaultNotInitialized) as exc:
        if "sealed" in _vault_reason(exc):  # the server's state, not this call's: one line however many calls fail
            raise VaultUnreachable(sealed(address)) from None
        raise VaultUnreachable(f"Vault at {address} is sealed or not initialised ({_vault_reason(exc)})") from None
    except hvac.exceptions.VaultError as exc:
        raise VaultError(f"Vault at {address}: {what} failed ({_vault_reason(exc)})") from None
    except requests.exceptions.SSLError:
        raise VaultUnreachable(
            f"Vault at {address}: TLS certificate verification failed; set VAULT_CACERT to its CA "
            "(or VAULT_SKIP_VERIFY=true only for a throwaway server)"
        ) from None
    except requests.exceptions.ConnectionError:
        raise VaultUnreachable(
            f"Vault at {address} is unreachable (connection failed) while trying to {what}"
        ) from None
    except requests.exceptions.Timeout:
        raise VaultUnreachable(f"Vault at {address} timed out while trying to {what}") from None
    except requests.exceptions.RequestException as exc:
        raise VaultUnreachable(f"Vault at {address}: {what} failed ({type(exc).__name__})") from None
