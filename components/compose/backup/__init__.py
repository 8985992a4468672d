"""The backup services of the data composes (docs/data.md says why these and not Dokploy's own backups).

`postgres_backup` joins the postgres compose: the postgres image (its pg_dump matches the server) running
`pg-backup.sh` (beside this file, the one dump/restore script; the restore drill runs it too) from busybox
cron on the environment's schedule. `minio_mirror` joins the app compose, whose vault-agent renders the
app's S3 keys: `mc mirror` of the statements bucket every `mirror_minutes`. Both read the destination's keys
from the vault-agent's tmpfs file at each run, so a rotated key is picked up without a redeploy, and no key
is in the compose file, Dokploy's env or any command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.compose import shell
from components.compose.vault_agent import SECRETS_VOLUME
from components.environment import Environment

SCRIPT = Path(__file__).with_name("pg-backup.sh")
SCRIPT_PATH = "/usr/local/bin/pg-backup.sh"
# The postgres image has no curl; Alpine's package of the image's own release (signed by its apk keys).
CURL_PACKAGE = "curl"


def script_text() -> str:
    return SCRIPT.read_text()


def _wait_for_file() -> str:
    # Only waits for the file: the backup entrypoint never loads the secrets (each job run does).
    return f"while [ ! -s {shell.SECRETS_FILE} ]; do sleep 1; done"


def postgres_backup(env: Environment, image: str, pg_host: str, database: str) -> dict[str, Any]:
    """The `backup` service: dumps `database` at `pg_host` on the environment's schedule, with `image`'s
    pg_dump (the postgres compose's own image, so client and server versions match)."""
    b = env.backups
    assert b.enabled
    job_env = " ".join(
        (
            f"BACKUP_SECRETS_FILE={shell.SECRETS_FILE}",
            f"BACKUP_PREFIX={b.prefix(env.name, 'postgres')}",
            f"BACKUP_KEEP={b.keep}",
            f"PGHOST={pg_host}",
            "PGUSER=postgres",
            f"PGDATABASE={database}",
        )
    )
    # Cron's job writes to PID 1's stdout/stderr, so `docker logs` (and Dokploy's log view) show each run.
    crontab = f"{b.schedule} {job_env} {SCRIPT_PATH} backup >/proc/1/fd/1 2>/proc/1/fd/2"
    return {
        "image": image,
        "restart": "always",
        "entrypoint": shell.script(
            _wait_for_file(),
            f"apk add --no-cache --quiet {CURL_PACKAGE}",
            f'printf "%s\\n" "$BACKUP_SCRIPT" > {SCRIPT_PATH}',
            f"chmod 0755 {SCRIPT_PATH}",
            'printf "%s\\n" "$BACKUP_CRONTAB" > /etc/crontabs/root',
            "exec crond -f -l 8",
        ),
        "environment": {"BACKUP_SCRIPT": shell.literal(script_text()), "BACKUP_CRONTAB": shell.literal(crontab)},
        "volumes": [f"{SECRETS_VOLUME}:/secrets:ro"],
    }


def minio_mirror(env: Environment, mc_image: str) -> dict[str, Any]:
    """The `minio-mirror` service: copies the app's bucket into the destination under `<env>/minio/`.

    `mc` takes both ends from MC_HOST_<alias> variables it is given in its environment, not its argv; a
    source object deleted stays in the copy (no --remove): the destination keeps what the app loses.
    """
    b = env.backups
    assert b.enabled
    target = b.prefix(env.name, "minio")
    loop = (
        "while :; do "
        f"set -a; . {shell.SECRETS_FILE}; set +a; "
        'export MC_HOST_src="${S3_ENDPOINT%%://*}://${S3_ACCESS_KEY}:${S3_SECRET_KEY}@${S3_ENDPOINT#*://}"; '
        'export MC_HOST_dst="${BACKUP_S3_ENDPOINT%%://*}://${BACKUP_S3_ACCESS_KEY}:${BACKUP_S3_SECRET_KEY}'
        '@${BACKUP_S3_ENDPOINT#*://}"; '
        f'mc mirror --overwrite --quiet "src/$S3_BUCKET" "dst/$BACKUP_S3_BUCKET/{target}/$S3_BUCKET" '
        "|| echo 'minio-mirror: mirror failed; retrying at the next interval' >&2; "
        f"sleep {b.mirror_minutes * 60}; done"
    )
    return {
        "image": mc_image,
        "entrypoint": shell.script(_wait_for_file(), loop),
        "volumes": [f"{SECRETS_VOLUME}:/secrets:ro"],
        "deploy": {"replicas": 1, "restart_policy": {"condition": "any", "delay": "30s"}},
    }
