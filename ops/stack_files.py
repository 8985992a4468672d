"""A stack's `Pulumi.<stack>.yaml` on a fresh checkout: its secrets provider, from the backend when it exists.

Where a stack keeps its secrets (`secretsprovider`) and its data key wrapped by that provider
(`encryptedkey`, or a passphrase's `encryptionsalt`) is written into `Pulumi.<stack>.yaml` by `stack init`.
PR stacks' files are never committed, so every job starts without one, and the CLI does not repair that:
`stack select --create --secrets-provider` ignores the provider for a stack that exists, and the next
`config set` writes a file without it, so `pulumi up` falls back to a passphrase and fails.

The backend has both in the stack's state from `stack init` on (`secrets_providers` of `stack export`), so
`ensure_stack` writes them back from there. That holds after any number of pushes, after a reopen, and after
a first `up` that failed before changing anything, where no update is in the history and
`pulumi config refresh` has nothing to refresh from. Config values are not restored: each job sets its own.

`init_stack` is the admin's one-time step for the long-lived stacks (`make init-stack STACK=staging`): the
stack in the backend on its transit key, the key written into the committed file, and the config the program
refuses to run without. The result is committed; every later job then opens the stack as committed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.environment import ConfigError, Environment, commit_tag_pattern, requires_digest_images
from components.vault.authority import group_of, transit_key
from ops import pulumi_cli, stacks

PASSPHRASE = "passphrase"
REVIEWERS_KEY = "financeReport:productionReviewers"
RELEASE_APP_KEY = "financeReport:releaseAppId"
_FILE_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt")
_NO_STACK = re.compile(r"no stack named '[^']*' found")


def secrets_provider(stack: str) -> str:
    """`hashivault://<transit key>` of the stack's group (the Vault bootstrap creates them); local: a passphrase."""
    try:
        return f"hashivault://{transit_key(group_of(stack))}"
    except ValueError:  # the authority gives `local` no transit key
        return PASSPHRASE


@dataclass(frozen=True)
class SecretsState:
    """What the backend's state says about a stack's secrets provider, in stack-file keys."""

    provider: str  # hashivault://..., or "passphrase"
    fields: dict[str, str]  # secretsprovider/encryptedkey, or encryptionsalt


def secrets_state(export: str) -> SecretsState | None:
    """From `pulumi stack export`: the provider and its key material; None when the state records none."""
    deployment = (json.loads(export or "{}") or {}).get("deployment") or {}
    sp = deployment.get("secrets_providers") or {}
    state = sp.get("state") or {}
    if sp.get("type") == PASSPHRASE and state.get("salt"):
        return SecretsState(PASSPHRASE, {"encryptionsalt": str(state["salt"])})
    if sp.get("type") == "cloud" and state.get("url") and state.get("encryptedkey"):
        url = str(state["url"])
        return SecretsState(url, {"secretsprovider": url, "encryptedkey": str(state["encryptedkey"])})
    return None


def file_secrets(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    return {k: str(doc[k]) for k in _FILE_KEYS if doc.get(k)}


def write_secrets(path: Path, fields: dict[str, str]) -> None:
    """Add the keys at the top level of the stack file; its config and comments stay as they are."""
    text = path.read_text() if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{k}: {v}\n" for k, v in fields.items())
    path.write_text(text)


def _export(stack: str, cwd: Path) -> str | None:
    """The stack's state (secrets stay ciphertext), or None when the backend has no such stack."""
    res = pulumi_cli.run("stack", "export", "--stack", stack, cwd=cwd)
    if res.code == 0:
        return res.output
    if _NO_STACK.search(res.output):
        return None
    raise RuntimeError(f"pulumi stack export --stack {stack} failed: {res.output.strip().splitlines()[-1:]}")


def ensure_stack(stack: str, cwd: Path = stacks.REPO, *, create: bool = True) -> str:
    """Create the stack on its secrets provider, or give this checkout its stack file's secrets keys back.

    Returns what it did: `created`, `restored` (keys written from the state), `unchanged` (the file had them),
    or `missing` (no such stack and `create` off; nothing written).
    """
    provider = secrets_provider(stack)
    path = cwd / f"Pulumi.{stack}.yaml"
    export = _export(stack, cwd)
    if export is None:
        if not create:
            return "missing"
        _run("stack", "init", stack, "--secrets-provider", provider, cwd=cwd)
        return "created"
    state = secrets_state(export)
    if state is None:
        raise ConfigError(
            f"stack {stack}'s state records no secrets provider; set one with "
            f"`pulumi stack change-secrets-provider --stack {stack} {provider}`"
        )
    if state.provider != provider:
        raise ConfigError(
            f"stack {stack} keeps its secrets with {state.provider}, not {provider} (its group's); "
            f"move it with `pulumi stack change-secrets-provider --stack {stack} {provider}`"
        )
    have = file_secrets(path)
    named = have.get("secretsprovider") or (PASSPHRASE if "encryptionsalt" in have else None)
    if named not in (None, provider):
        raise ConfigError(
            f"{path.name} names secrets provider {named} but stack {stack} uses {provider}; "
            f"remove {', '.join(sorted(have))} from {path.name} and run this again"
        )
    missing = {k: v for k, v in state.fields.items() if k not in have}
    if not missing:
        return "unchanged"
    write_secrets(path, missing)
    return "restored"


def _shape(stack: str) -> Environment:
    """The stack's environment for questions that do not depend on its image (its gates, its reviewers)."""
    pattern = commit_tag_pattern(stack)
    tag = pattern.format(sha7="0" * 7) if pattern else "v0.0.0" if requires_digest_images(stack) else None
    return stacks.environment(stack, tag)


@dataclass(frozen=True)
class OwnerNeeds:
    """What a stack's GitHub side refuses to run without (components/github.py GithubArgs.validate)."""

    reviewers: bool  # it creates production's environment, whose required reviewers it sets
    release_app: bool  # it owns main's and the release tags' rulesets, which name the release GitHub App


def owner_needs(env: Environment) -> OwnerNeeds:
    from components.github import plan_for

    if not env.managers.github:
        return OwnerNeeds(reviewers=False, release_app=False)
    plan = plan_for(env)
    return OwnerNeeds(reviewers=any(spec.reviewed for spec in plan.environments), release_app=plan.owns_main_protection)


def init_stack(
    stack: str,
    reviewers: Sequence[str] = (),
    teams: Sequence[str] = (),
    release_app_id: str = "",
    cwd: Path = stacks.REPO,
) -> list[str]:
    """The admin's one-time step for a long-lived stack; returns one line per thing done (to commit after)."""
    env = _shape(stack)
    if env.is_ephemeral:
        raise ConfigError(f"stack {stack} is a PR stack: its workflow creates and opens it; init only long-lived ones")
    if secrets_provider(stack) == PASSPHRASE:
        raise ConfigError(
            f"stack {stack} keeps its secrets with a passphrase and `make up` creates it; "
            "init-stack is for staging and production"
        )
    if release_app_id and not (release_app_id.isdigit() and int(release_app_id) > 0):
        raise ConfigError(f"RELEASE_APP_ID={release_app_id!r} is not a GitHub App id (a positive number)")
    needs, path = owner_needs(env), cwd / f"Pulumi.{stack}.yaml"
    missing = []
    if needs.reviewers and not (reviewers or teams or _has_key(path, REVIEWERS_KEY)):
        missing.append((REVIEWERS_KEY, "REVIEWERS=<github login>[,<login>...] (or REVIEWER_TEAMS=<team slug>)"))
    if needs.release_app and not (release_app_id or _has_key(path, RELEASE_APP_KEY)):
        missing.append((RELEASE_APP_KEY, "RELEASE_APP_ID=<the release GitHub App's id, docs/security.md>"))
    if missing:  # before any change: the stack's program refuses to run without them
        raise ConfigError(
            f"stack {stack} needs {' and '.join(k for k, _ in missing)}; run "
            f"`make init-stack STACK={stack} {' '.join(a for _, a in missing)}`"
        )
    done = [f"{ensure_stack(stack, cwd)}: stack {stack} on {secrets_provider(stack)}"]
    values = []
    if reviewers or teams:
        _run("config", "rm", "--stack", stack, "--path", REVIEWERS_KEY, cwd=cwd, allow=("not found",))
        values += [f"{REVIEWERS_KEY}.users[{i}]={who}" for i, who in enumerate(reviewers)]
        values += [f"{REVIEWERS_KEY}.teams[{i}]={who}" for i, who in enumerate(teams)]
        done.append(f"set {REVIEWERS_KEY}: users {list(reviewers)}, teams {list(teams)}")
    if release_app_id:
        values.append(f"{RELEASE_APP_KEY}={release_app_id}")
        done.append(f"set {RELEASE_APP_KEY}: {release_app_id}")
    if values:
        _run("config", "set-all", "--stack", stack, "--path", *(a for v in values for a in ("--plaintext", v)), cwd=cwd)
    done.append(f"now commit Pulumi.{stack}.yaml")
    return done


def _has_key(path: Path, key: str) -> bool:
    doc = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
    return key in (doc.get("config") or {})


def _run(*args: str, cwd: Path, allow: tuple[str, ...] = ()) -> None:
    res = pulumi_cli.run(*args, cwd=cwd, secrets=True)  # these create or open the stack's secrets provider
    if res.code != 0 and not any(a in res.output for a in allow):
        raise RuntimeError(f"pulumi {' '.join(args[:2])} failed: {res.output.strip().splitlines()[-1:]}")
