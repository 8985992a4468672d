"""`python -m ops rotate <kind>`: one command per credential kind, each rotating without downtime and
revoking the old credential only once the new one is proven to work (docs/data.md, "Rotation").

    agent-secret-ids  the AppRole secret_ids of an environment's vault-agents (the host files). The new
                      one is written in place (docker compose bind-mounts it: the agent's next login reads
                      it), proven by a login, then the old one is destroyed. Tokens already issued keep
                      working until their max TTL, so running services never lose their secrets.
    transit           a stack group's transit key: a new key version, every given stack's data key rewrapped
                      (its stack file's `encryptedkey` and the state's copy, via export/import), then
                      `min_decryption_version` raised so the old version decrypts nothing any more. The data
                      key's plaintext is unchanged, so every secret in the state still decrypts.
    s3-key            an S3 key pair held in Vault (the backup destination's, or the app's). The new pair
                      comes on stdin (never argv), is proven against its bucket, then written; the services
                      read it at their next render (vault-agent: within 5 minutes; the backup: every run).
                      Deleting the old key is the S3 provider's step, printed with its access key id.
    dokploy-key       a Dokploy API key held in CI (DOKPLOY_API_KEY: the current key, from the environment).
                      A new key is created with it, proven, written to the GitHub secret that holds it, and
                      only then is the old key (--old-key-id, Settings -> Profile -> API keys) deleted and
                      proven refused. Until the secret is written, a failure deletes the new key instead.

Errors are one line; nothing secret is printed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import hvac
import yaml
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from components.environment import Environment
from components.vault import authority as A
from components.vault.client import VaultClient
from components.vault.connection import VaultConnection
from components.vault.errors import translated
from ops.vault_bootstrap import Change, issue_agent_credentials

# ---- agent secret_ids ----------------------------------------------------------------------------


class RotationFailed(RuntimeError):
    """A rotation step failed; the old credential was kept. The message says which and why."""


def approle_login(address: str, role_id: str, secret_id: str) -> str:
    """A vault-agent's login: the token, or hvac's error."""
    resp = hvac.Client(url=address).auth.approle.login(
        role_id=role_id, secret_id=secret_id, mount_point=A.APPROLE_MOUNT
    )
    return str(resp["auth"]["client_token"])


def rotate_agent_secret_ids(client: VaultClient, env: Environment, directory: Path) -> list[Change]:
    """New secret_id per service into its host file, proven by a login, old ones destroyed."""
    old = {
        svc: (directory / f"{env.compose_app_name(svc)}.secret-id").read_text().strip()
        for svc in env.services
        if (directory / f"{env.compose_app_name(svc)}.secret-id").exists()
    }
    changes = issue_agent_credentials(client, env.name, directory, rotate=True)
    for svc in env.services:
        fresh = (directory / f"{env.compose_app_name(svc)}.secret-id").read_text().strip()
        try:
            approle_login(client.address, A.approle_role(env.name, svc), fresh)
        except hvac.exceptions.VaultError as exc:  # pragma: no cover - a server that issues unusable ids
            raise RotationFailed(f"the new secret_id of {svc} does not log in ({type(exc).__name__})") from None
        if svc in old and old[svc] == fresh:
            raise RotationFailed(f"the secret_id of {svc} did not change")
    return changes


# ---- transit ---------------------------------------------------------------------------------------

Pulumi = Callable[[Sequence[str], str | None], str]  # (args, stdin) -> stdout; raises on failure


@dataclass(frozen=True)
class StackRef:
    """A stack on the key: its stack file and how to run pulumi for it (backend and Vault in its env)."""

    name: str
    stack_file: Path
    pulumi: Pulumi


def _rewrap(admin: hvac.Client, key: str, encoded: str) -> str:
    wrapped = base64.b64decode(encoded).decode()
    if not wrapped.startswith("vault:v"):
        raise RotationFailed(f"an encryptedkey that is not transit ciphertext ({wrapped[:8]}...); is it on {key}?")
    with translated(admin.url, f"rewrap with transit/keys/{key}"):
        out = admin.write_data(f"{A.TRANSIT_MOUNT}/rewrap/{key}", data={"ciphertext": wrapped})
    return base64.b64encode(str(out["data"]["ciphertext"]).encode()).decode()


def _rewrap_file(admin: hvac.Client, key: str, path: Path) -> None:
    doc = yaml.safe_load(path.read_text()) or {}
    if doc.get("secretsprovider") != f"hashivault://{key}" or not doc.get("encryptedkey"):
        raise RotationFailed(f"{path.name} is not on hashivault://{key}; nothing to rewrap there")
    text = path.read_text()
    path.write_text(text.replace(str(doc["encryptedkey"]), _rewrap(admin, key, str(doc["encryptedkey"]))))


def _rewrap_state(admin: hvac.Client, key: str, ref: StackRef) -> None:
    state = json.loads(ref.pulumi(["stack", "export", "--stack", ref.name], None))
    provider: Mapping[str, Any] = state.get("deployment", {}).get("secrets_providers") or {}
    inner = provider.get("state") or {}
    if inner.get("encryptedkey"):
        inner["encryptedkey"] = _rewrap(admin, key, str(inner["encryptedkey"]))
        ref.pulumi(["stack", "import", "--stack", ref.name], json.dumps(state))


def rotate_transit(admin: hvac.Client, key: str, stacks: Sequence[StackRef]) -> int:
    """Rotate `key`, rewrap each stack's data key, then refuse older versions. The new latest version."""
    path = f"{A.TRANSIT_MOUNT}/keys/{key}"
    with translated(admin.url, f"rotate {path}"):
        admin.write_data(f"{path}/rotate")
        latest = int(admin.read(path)["data"]["latest_version"])
    for ref in stacks:
        _rewrap_file(admin, key, ref.stack_file)
        _rewrap_state(admin, key, ref)
    with translated(admin.url, f"raise min_decryption_version of {path}"):
        admin.write_data(f"{path}/config", data={"min_decryption_version": latest})
    return latest


def cli_pulumi(cwd: Path, environ: Mapping[str, str]) -> Pulumi:
    """Pulumi on PATH in `cwd` with `environ` (the backend and Vault of the stacks being rewrapped)."""

    def run(args: Sequence[str], stdin: str | None) -> str:
        done = subprocess.run(
            ["pulumi", "--non-interactive", *args], cwd=cwd, env=dict(environ), input=stdin,
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise RotationFailed(f"pulumi {args[0]} {args[1]} failed: {done.stderr.strip().splitlines()[-1:]}")
        return done.stdout

    return run


# ---- S3 keys ---------------------------------------------------------------------------------------

S3_KEYS = {  # which pair, in which service's secret
    "backup": ("postgres", "BACKUP_S3_ACCESS_KEY", "BACKUP_S3_SECRET_KEY"),
    "app": ("app", "S3_ACCESS_KEY", "S3_SECRET_KEY"),
}


def _prove(endpoint: str, bucket: str, access: str, secret: str) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )  # fmt: skip
    try:
        s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        raise RotationFailed(
            f"the new key cannot list bucket {bucket} at {endpoint} ({code}); Vault unchanged"
        ) from None


def rotate_s3_key(client: VaultClient, env: Environment, which: str, access: str, secret: str) -> str:
    """Prove the new pair, then patch it into Vault. The old access key id (for the provider's deletion)."""
    service, access_name, secret_name = S3_KEYS[which]
    path = env.vault_path(service)
    with translated(client.address, f"read {env.vault_mount}/{path}"):
        data = client.hv.secrets.kv.v2.read_secret_version(
            path=path, mount_point=env.vault_mount, raise_on_deleted_version=True
        )["data"]["data"]
    endpoint_key, bucket_key = (
        ("BACKUP_S3_ENDPOINT", "BACKUP_S3_BUCKET") if which == "backup" else ("S3_ENDPOINT", "S3_BUCKET")
    )
    if not data.get(endpoint_key) or not data.get(bucket_key):
        raise RotationFailed(
            f"{path} has no {endpoint_key}/{bucket_key}; set the destination first (docs/first-day.md)"
        )
    _prove(str(data[endpoint_key]), str(data[bucket_key]), access, secret)
    with translated(client.address, f"patch {env.vault_mount}/{path}"):
        client.hv.secrets.kv.v2.patch(
            path=path, mount_point=env.vault_mount, secret={access_name: access, secret_name: secret}
        )
    return str(data.get(access_name) or "")


# ---- Dokploy API keys held in CI ----------------------------------------------------------------


def _dokploy(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{url.rstrip('/')}/api", headers={"x-api-key": key}, timeout=30.0)


def _works(url: str, key: str) -> bool:
    with _dokploy(url, key) as c:
        resp = c.get("project.all")
    if resp.status_code == 401:
        return False
    resp.raise_for_status()
    return True


def rotate_dokploy_key(url: str, current: str, old_key_id: str, name: str, store: Callable[[str], None]) -> str:
    """Create, prove, store, then revoke: CI holds a working key at every step. The new key's id."""
    if not old_key_id:
        raise RotationFailed("rotate dokploy-key needs --old-key-id (Dokploy: Settings -> Profile -> API keys)")
    if not _works(url, current):
        raise RotationFailed(f"DOKPLOY_API_KEY is refused by {url} (401); set the key CI holds now, then retry")
    with _dokploy(url, current) as c:
        projects = c.get("project.all").raise_for_status().json()
        if not projects:
            raise RotationFailed(f"{url} has no project to read the organization from; run the first `up` first")
        created = (
            c.post(
                "user.createApiKey",
                json={"name": name[:32], "metadata": {"organizationId": projects[0]["organizationId"]}},
            )
            .raise_for_status()
            .json()
        )
        try:
            if not _works(url, created["key"]):
                raise RotationFailed(f"the new key {created['id']} is refused by {url}; the old key is kept")
            store(created["key"])
        except BaseException:
            c.post("user.deleteApiKey", json={"apiKeyId": created["id"]})  # CI still holds the old key
            raise
    with _dokploy(url, created["key"]) as c:
        resp = c.post("user.deleteApiKey", json={"apiKeyId": old_key_id})
        if resp.status_code == 404:
            raise RotationFailed(f"no API key {old_key_id} on {url}; CI holds the new key, delete the old one by hand")
        resp.raise_for_status()
    if _works(url, current):
        raise RotationFailed(f"the old key still works after deleting {old_key_id}: it was another key's id")
    return str(created["id"])


# ---- the command -----------------------------------------------------------------------------------


def main(kind: str, stack: str, *, directory: str = "", stacks: Sequence[str] = (), which: str = "backup",
         stdin: str = "", environ: Mapping[str, str] | None = None, cwd: Path | None = None,
         secret: str = "", github_environment: str = "", old_key_id: str = "") -> int:  # fmt: skip
    from ops import restore_drill
    from ops import stacks as stack_model

    environ = dict(environ or os.environ)
    env = restore_drill.model(stack)
    if kind == "dokploy-key":
        from ops.github_api import GitHub

        needed = ("DOKPLOY_URL", "DOKPLOY_API_KEY", "GITHUB_TOKEN", "GITHUB_REPOSITORY")
        missing = [v for v in needed if not environ.get(v)]
        if missing or not secret:
            what = ", ".join(missing) if missing else "--secret (the GitHub secret's name)"
            raise RotationFailed(f"rotate dokploy-key needs {what}; docs/data.md, Rotation")
        with GitHub(environ["GITHUB_REPOSITORY"], environ["GITHUB_TOKEN"], api_url=environ.get("GITHUB_API_URL")) as gh:
            new_id = rotate_dokploy_key(
                environ["DOKPLOY_URL"], environ["DOKPLOY_API_KEY"], old_key_id, f"finance-report-{stack}",
                lambda key: gh.set_secret(secret, key, github_environment),
            )  # fmt: skip
        where = f"environment {github_environment}" if github_environment else "the repository"
        print(f"Dokploy key of {stack}: new key {new_id} in secret {secret} of {where}; old key {old_key_id} deleted")
        return 0
    client = VaultClient.connect(VaultConnection(address=environ.get("VAULT_ADDR", env.vault_address)), environ)
    if kind == "agent-secret-ids":
        if not directory:
            raise RotationFailed("rotate agent-secret-ids needs --dir (the Dokploy host's vault credentials directory)")
        for c in rotate_agent_secret_ids(client, env, Path(directory)):
            print(f"{c.kind} {c.name}: rotated; the old one is destroyed")
        return 0
    if kind == "transit":
        key = A.transit_key(A.group_of(env.name))
        root = cwd or stack_model.REPO
        refs = [
            StackRef(s, root / f"Pulumi.{s}.yaml", cli_pulumi(root, environ)) for s in dict.fromkeys([stack, *stacks])
        ]
        latest = rotate_transit(client.hv, key, refs)
        names = ", ".join(r.name for r in refs)
        print(f"transit key {key}: now version {latest}; older versions refused; rewrapped {names}")
        print(f"commit {', '.join(r.stack_file.name for r in refs)} (their encryptedkey changed)")
        return 0
    if kind == "s3-key":
        lines = [ln.strip() for ln in stdin.splitlines() if ln.strip()]
        if len(lines) != 2:
            raise RotationFailed("rotate s3-key reads two lines on stdin: the new access key id, then its secret")
        old = rotate_s3_key(client, env, which, lines[0], lines[1])
        print(f"{which} S3 key of {stack}: new key {lines[0]} in Vault; the services pick it up within 5 minutes")
        print(f"then delete the old key {old or '(none)'} at the S3 provider")
        return 0
    raise RotationFailed(f"unknown credential kind {kind!r}; use agent-secret-ids, transit, s3-key or dokploy-key")
