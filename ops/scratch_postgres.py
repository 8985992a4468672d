"""A throwaway PostgreSQL cluster (Debian's binaries) in a temp directory, on a free loopback port.

The restore drill restores into one of these, never into the environment's own database, and the tests
use the same one. As root (CI containers, this machine) the server runs as the `postgres` user: PostgreSQL
refuses to run as root. The superuser's password is random per cluster and reaches clients through
PGPASSWORD in their environment (`env()`), never a command line.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_BINDIR = Path("/usr/lib/postgresql")
RUN_AS = "postgres"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries: `make test-setup` installs Debian's (scripts/test-setup.d/70-postgres.sh)."""


def bindir() -> Path:
    """The newest Debian PostgreSQL's bin directory (initdb, pg_ctl, pg_dump, pg_restore, psql)."""
    versions = sorted(
        (p for p in DEBIAN_BINDIR.glob("*/bin") if (p / "initdb").exists()), key=lambda p: int(p.parent.name)
    )
    if not versions:
        raise PostgresMissing(
            "no PostgreSQL server found under /usr/lib/postgresql; run `make test-setup` (installs Debian's postgresql)"
        )
    return versions[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ScratchPostgres:
    root: Path
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    database: str = "finance_report"
    bin: Path = field(default_factory=bindir)

    def _as_owner(self, args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", RUN_AS, "--"] if os.geteuid() == 0 else []
        done = subprocess.run(prefix + args, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-400:]}")
        return done

    @property
    def data(self) -> Path:
        return self.root / "data"

    def start(self) -> ScratchPostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if os.geteuid() == 0:
            shutil.chown(self.root, RUN_AS)
            shutil.chown(pwfile, RUN_AS)
        pwfile.chmod(0o600)
        self._as_owner(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        for _ in range(5):  # a probed port can be taken before the server binds it
            self.port = _free_port()
            opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
            try:
                self._as_owner(
                    [
                        str(self.bin / "pg_ctl"),
                        "-D",
                        str(self.data),
                        "-l",
                        str(self.root / "log"),
                        "-o",
                        opts,
                        "-w",
                        "-t",
                        "30",
                        "start",
                    ]
                )
                break
            except RuntimeError:
                continue
        else:
            raise RuntimeError(f"scratch PostgreSQL did not start; see {self.root / 'log'}")
        self.psql(f"CREATE DATABASE {self.database}", database="postgres")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def env(self, database: str | None = None) -> dict[str, str]:
        """libpq's variables for a client of this cluster (pg_dump, pg_restore, psql, pg-backup.sh)."""
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "postgres",
            "PGPASSWORD": self.password,
            "PGDATABASE": database or self.database,
        }

    def client_env(self) -> dict[str, str]:
        """A child's whole environment: this one's, its PG* replaced, the Debian client tools first on PATH."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return {**base, **self.env(), "PATH": f"{self.bin}:{base.get('PATH', '')}"}

    def psql(self, sql: str, database: str | None = None) -> str:
        """Run SQL, return unaligned tuples-only output."""
        env = {**self.client_env(), **self.env(database)}
        out = subprocess.run(
            [str(self.bin / "psql"), "-v", "ON_ERROR_STOP=1", "-XAtq", "-c", sql],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()[-400:]}")
        return out.stdout.strip()


def scratch(prefix: str = "restore-drill-") -> ScratchPostgres:
    """A cluster in a new temp directory of its own (the server's user must reach it: no root-only parent)."""
    return ScratchPostgres(Path(tempfile.mkdtemp(prefix=prefix)))
