"""A throw-away PostgreSQL server for a test run: initdb in a temporary folder, listening only
on a Unix socket there, stopped and removed at the end.

Used by the ``hc_database_url`` fixture of :mod:`core.testing` (``pytest --hc-postgresql``) and by
the project's own ``tests/conftest.py`` (through ``tests/support/postgres.py``)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    """A server started by :func:`start_server`; :meth:`url` names one of its databases."""

    bin_dir: Path
    root: Path
    port: int = 54329
    _as_user: str | None = None

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self._as_user:
            command = ["runuser", "-u", self._as_user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        data = self.root / "data"
        self.socket_dir.mkdir(parents=True)
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
            self._as_user = "postgres"
            user = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(self.bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(self.bin_dir / "pg_ctl", "-D", data, "-o", options, "-w", "-l", self.root / "server.log", "start")

    def stop(self) -> None:
        try:
            self._run(self.bin_dir / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer | None:
    """Start a server, or return ``None`` when PostgreSQL is not installed."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="homecoming-pg-"))
    os.chmod(root, 0o755)
    server = PostgresServer(bin_dir, root, port=54329 + os.getpid() % 500)
    server.start()
    return server
