"""Shell snippets for entrypoints, written once so every compose file waits and retries the same way.

Everything here is plain POSIX sh; `literal()` turns it into compose text (compose interpolates `$`).
"""

from __future__ import annotations

SECRETS_FILE = "/secrets/.env"


def literal(text: str) -> str:
    """Escape `$` so compose passes the text through unchanged instead of interpolating it."""
    return text.replace("$", "$$")


def wait_for_secrets(timeout_seconds: int = 300) -> str:
    """Wait until the vault-agent has rendered the env file, then export every line of it."""
    return (
        "i=0; "
        f"while [ ! -s {SECRETS_FILE} ]; do "
        f'i=$((i+1)); if [ "$i" -gt {timeout_seconds} ]; then '
        f"echo 'no {SECRETS_FILE} from vault-agent after {timeout_seconds}s' >&2; exit 1; fi; "
        "sleep 1; done; "
        f"set -a; . {SECRETS_FILE}; set +a"
    )


def retry(command: str, *, attempts: int, delay_seconds: int, what: str) -> str:
    """Run `command` until it succeeds, at most `attempts` times (swarm has no depends_on conditions)."""
    return (
        "n=0; "
        f"until {command}; do "
        f'n=$((n+1)); if [ "$n" -ge {attempts} ]; then '
        f"echo '{what} failed {attempts} times; giving up' >&2; exit 1; fi; "
        f"sleep {delay_seconds}; done"
    )


def script(*steps: str) -> list[str]:
    """An entrypoint list that runs the steps in order under `set -eu`, with compose `$` escaped."""
    return ["/bin/sh", "-c", literal("; ".join(("set -eu", *steps)))]
