"""Online backups and restores of the whole database (``homecoming backup`` / ``homecoming restore``).

A backup is two files side by side:

- ``FILE``: on SQLite, a SQLite database (a page-for-page copy made with SQLite's online backup
  API, gzip-compressed when ``FILE`` ends in ``.gz``); on PostgreSQL, a ``pg_dump --format=custom``
  archive. Both are consistent snapshots taken while the app keeps writing.
- ``FILE.json``: the manifest (:class:`Manifest`): what the file is, the app version, the Alembic
  revisions and the row count of every table, all read from the snapshot itself, and the SHA-256 of
  ``FILE``. Restore checks the hash when the manifest is there and works without it.

Nothing is added to the backed-up database: a restored database is the source, table for table.
docs/security.md ("Backups") says what is backed up and how to schedule it.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, Connection, make_url

from core.db import make_engine, make_session_factory
from core.migrate import alembic_config
from core.models import Organisation
from core.plugins import PluginRegistry

MANIFEST_FORMAT = "homecoming-backup"
MANIFEST_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"

#: where progress lines go (the CLI passes ``click.echo(..., err=True)``)
Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    """What a backup file holds; written beside it as ``FILE.json``."""

    database: str  # "sqlite" or "postgresql"
    app_version: str
    alembic_revisions: list[str]
    tables: dict[str, int]  # row count of every table in the snapshot
    created_at: str  # ISO 8601, UTC
    file: str  # the backup file's name
    sha256: str  # of the backup file as written (compressed or not)
    compressed: bool = False
    format: str = MANIFEST_FORMAT
    format_version: int = MANIFEST_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


@dataclass
class RestoreResult:
    """What :func:`restore` did and found."""

    database: str
    revision_ok: bool
    revision_note: str
    ledger_report: list[str] = field(default_factory=list)
    ledger_ok: bool = True
    kept_aside: Path | None = None


def _quiet(_line: str) -> None:
    pass


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + ".json")


def database_kind(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def app_version() -> str:
    try:
        return metadata.version("homecoming")
    except metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def table_counts(conn: Connection) -> tuple[dict[str, int], list[str]]:
    """Row count of every table and the Alembic revisions, read in ``conn``'s transaction."""
    names = sorted(n for n in inspect(conn).get_table_names() if not n.startswith("sqlite_"))
    counts = {n: conn.scalar(select(func.count()).select_from(table(n))) or 0 for n in names}
    revisions = sorted(conn.scalars(text("SELECT version_num FROM alembic_version"))) if "alembic_version" in names else []
    return counts, revisions


# --- backup -------------------------------------------------------------------------------------


def backup(database_url: str, out: Path, say: Say = _quiet) -> Manifest:
    """Write a consistent snapshot of the database to ``out`` and its manifest to ``out.json``.

    The app may keep running: SQLite's backup API copies inside one read transaction (WAL
    readers do not block writers), ``pg_dump`` reads one snapshot by design. ``out`` appears only
    complete: it is written under a temporary name in the same folder, then renamed.
    """
    kind = database_kind(database_url)
    out = out.resolve()
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent}: no such folder")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if kind == "sqlite":
            counts, revisions, compressed = _backup_sqlite(database_url, tmp, out.name.endswith(".gz"), say)
        else:
            counts, revisions, compressed = _backup_postgres(database_url, tmp, say)
        manifest = Manifest(
            database=kind, app_version=app_version(), alembic_revisions=revisions, tables=counts,
            created_at=_now(), file=out.name, sha256=_sha256(tmp), compressed=compressed,
        )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    manifest_tmp = manifest_path(out).with_suffix(".json.part")
    manifest_tmp.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(manifest_tmp, manifest_path(out))
    say(f"wrote {out} ({out.stat().st_size:,} bytes, {sum(counts.values()):,} rows in {len(counts)} tables) and {manifest_path(out).name}")
    return manifest


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _backup_sqlite(database_url: str, tmp: Path, compress: bool, say: Say) -> tuple[dict[str, int], list[str], bool]:
    source_path = _sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError(f"{source_path}: no such database file")
    copy = tmp.with_name(tmp.name + ".db") if compress else tmp
    say(f"copying {source_path} with SQLite's online backup API")
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(copy)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        # pages=-1: the whole database in one step, i.e. inside one read transaction, so the copy
        # is one consistent snapshot and a busy writer cannot make the copy restart forever.
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    finally:
        target.close()
        source.close()
    try:
        _check_sqlite_file(copy)
        engine = create_engine(f"sqlite:///{copy}")  # not make_engine: it would switch the copy to WAL
        try:
            with engine.connect() as conn:
                counts, revisions = table_counts(conn)
        finally:
            engine.dispose()
        if compress:
            say("compressing with gzip")
            with copy.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    finally:
        if compress:
            copy.unlink(missing_ok=True)
            Path(f"{copy}-wal").unlink(missing_ok=True)
            Path(f"{copy}-shm").unlink(missing_ok=True)
    return counts, revisions, compress


def _check_sqlite_file(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name}: not a usable SQLite database ({exc})") from None
    finally:
        conn.close()
    if result != [("ok",)]:
        raise BackupError(f"{path.name}: SQLite integrity check failed: {'; '.join(r[0] for r in result[:5])}")


def find_pg_tool(name: str) -> Path:
    """``pg_dump`` or ``pg_restore``: the newest under /usr/lib/postgresql/*/bin (Debian keeps them
    there; a newer client reads older servers), else the one on PATH."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if Path(folder, name).exists():
            return Path(folder, name)
    found = shutil.which(name)
    if found:
        return Path(found)
    raise BackupError(f"{name} not found (on PATH or in /usr/lib/postgresql/*/bin): install the PostgreSQL client tools")


def _version_key(folder: str) -> tuple[int, ...]:
    version = Path(folder).parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def pg_environment(database_url: str) -> dict[str, str]:
    """The libpq environment for the URL's server and database: ``pg_dump`` gets everything
    through it, the password in ``PGPASSWORD``, never on a command line others can see."""
    url: URL = make_url(database_url)
    env = dict(os.environ)  # PGSSLMODE, PGPASSFILE and the like set by the operator still apply
    query = dict(url.query)
    values = {
        "PGHOST": query.get("host") or url.host, "PGPORT": query.get("port") or url.port, "PGUSER": url.username,
        "PGPASSWORD": url.password, "PGDATABASE": url.database, "PGSSLMODE": query.get("sslmode"),
    }
    for key, value in values.items():
        if value:
            env[key] = str(value[0] if isinstance(value, tuple) else value)
    return env


def _run_pg(command: list[str], database_url: str, what: str) -> None:
    result = subprocess.run(command, env=pg_environment(database_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _backup_postgres(database_url: str, tmp: Path, say: Say) -> tuple[dict[str, int], list[str], bool]:
    pg_dump = find_pg_tool("pg_dump")
    engine = make_engine(database_url)
    try:
        # One exported snapshot for both the manifest's counts and pg_dump: they describe the same
        # instant. The transaction must stay open while pg_dump runs.
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            counts, revisions = table_counts(conn)
            say(f"running {pg_dump} --format=custom (snapshot {snapshot})")
            _run_pg([str(pg_dump), "--format=custom", f"--snapshot={snapshot}", "--file", str(tmp)], database_url, "pg_dump")
    finally:
        engine.dispose()
    return counts, revisions, False


# --- restore ------------------------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest | None:
    """The manifest beside ``path`` (``None`` when there is none)."""
    beside = manifest_path(path)
    if not beside.exists():
        return None
    try:
        data = json.loads(beside.read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError("not a Homecoming backup manifest")
        return Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise BackupError(f"{beside.name}: unreadable manifest ({exc})") from None


def detect(path: Path) -> tuple[str, bool]:
    """``(database kind, gzip-compressed)`` of a backup file, from its first bytes."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(16)
    compressed = head.startswith(GZIP_MAGIC)
    if compressed:
        try:
            with gzip.open(path, "rb") as f:
                head = f.read(16)
        except (OSError, EOFError) as exc:
            raise BackupError(f"{path.name}: a damaged gzip file ({exc})") from None
    if head == SQLITE_MAGIC:
        return "sqlite", compressed
    if head.startswith(PG_CUSTOM_MAGIC) and not compressed:
        return "postgresql", False
    raise BackupError(f"{path.name}: not a Homecoming backup (neither a SQLite database nor a pg_dump custom archive)")


def holds_data(database_url: str) -> bool:
    """Whether any table of the database (but Alembic's own) has a row."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version" and not n.startswith("sqlite_")]
            return any(conn.scalar(select(text("1")).select_from(table(n)).limit(1)) is not None for n in names)
    finally:
        engine.dispose()


def restore(database_url: str, path: Path, registry: PluginRegistry, *, force: bool = False, say: Say = _quiet) -> RestoreResult:
    """Bring the backup ``path`` back into the database, then check its schema revision and
    every organisation's ledger chain.

    :raises BackupError: the file is not a backup, does not match its manifest, is for the other
        kind of database, or the target holds data and ``force`` is not set.
    """
    kind = database_kind(database_url)
    path = path.resolve()
    file_kind, compressed = detect(path)
    manifest = read_manifest(path)
    if manifest is None:
        say(f"no {manifest_path(path).name} beside the file: restoring without checking its hash")
    else:
        say(f"backup of {manifest.created_at} (Homecoming {manifest.app_version}, {sum(manifest.tables.values()):,} rows)")
        if _sha256(path) != manifest.sha256:
            raise BackupError(f"{path.name}: its SHA-256 differs from the manifest's: the file is damaged or not the one the manifest describes")
    if file_kind != kind:
        raise BackupError(f"{path.name} is a {file_kind} backup; the target database is {kind}")
    if _target_exists(database_url, kind) and holds_data(database_url) and not force:
        raise BackupError("the target database holds data: restore into an empty database, or pass --force to replace it")
    kept: Path | None = None
    if kind == "sqlite":
        kept = _restore_sqlite(database_url, path, compressed, say)
    else:
        say(f"running pg_restore --clean --if-exists --no-owner into {make_url(database_url).database}")
        _run_pg([str(find_pg_tool("pg_restore")), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                 "--exit-on-error", f"--dbname={make_url(database_url).database}", str(path)], database_url, "pg_restore")
    revision_ok, note = check_revision(database_url, registry)
    say("verifying every organisation's records (the ledger's hash chains)")
    report, ok = verify_records(database_url, registry)
    return RestoreResult(kind, revision_ok, note, report, ok, kept)


def _target_exists(database_url: str, kind: str) -> bool:
    return kind != "sqlite" or _sqlite_path(database_url).exists()


@contextmanager
def _plain_sqlite_copy(path: Path, compressed: bool) -> Iterator[Path]:
    if not compressed:
        yield path
        return
    fd, name = tempfile.mkstemp(prefix="homecoming-restore-", suffix=".db")
    os.close(fd)
    try:
        try:
            with gzip.open(path, "rb") as src, open(name, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError) as exc:
            raise BackupError(f"{path.name}: a damaged gzip file ({exc})") from None
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _restore_sqlite(database_url: str, path: Path, compressed: bool, say: Say) -> Path | None:
    target_path = _sqlite_path(database_url)
    kept: Path | None = None
    with _plain_sqlite_copy(path, compressed) as plain:
        say("checking the backup's integrity")
        _check_sqlite_file(plain)
        if target_path.exists() and target_path.stat().st_size > 0:
            kept = target_path.with_name(target_path.name + ".before-restore")
            say(f"keeping the current database aside as {kept}")
            _sqlite_copy(target_path, kept)
        say(f"copying the backup into {target_path}")
        # The backup API writes into the target through SQLite itself: its -wal file and any open
        # connection stay coherent, which renaming files under them would not.
        _sqlite_copy(plain, target_path)
    return kept


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        source.backup(target, pages=-1)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source_path.name}: cannot be copied ({exc})") from None
    finally:
        target.close()
        source.close()


def check_revision(database_url: str, registry: PluginRegistry) -> tuple[bool, str]:
    """Whether the database's schema is what this code expects (every head of core's and each
    loaded module's migrations applied), and a sentence saying so."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            _counts, found = table_counts(conn)
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(database_url, registry))
    expected = set(script.get_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = set(found) - known
    if unknown:
        return False, (f"schema revision {', '.join(sorted(unknown))} is unknown to this code: the backup was made by a newer "
                       "Homecoming or with a module that is not loaded now")
    # alembic_version lists only the tips; a head another branch depends on is applied too.
    applied = {rev.revision for rev in script.iterate_revisions(tuple(found), "base", inclusive=True)} if found else set()
    if expected <= applied:
        return True, f"schema revision matches this code ({', '.join(sorted(found))})"
    return False, f"schema is older than this code (missing {', '.join(sorted(expected - applied))}): run `homecoming init` to upgrade it"


def verify_records(database_url: str, registry: PluginRegistry) -> tuple[list[str], bool]:
    """Every module's own check of every organisation (``verify_records``: the ledger recomputes
    its hash chains), recording nothing: ``(one line per organisation or problem, all intact)``."""
    engine = make_engine(database_url)
    report: list[str] = []
    ok = True
    try:
        with make_session_factory(engine)() as session:
            for org in session.scalars(select(Organisation).order_by(Organisation.slug)):
                problems = [p for found in registry.pm.hook.verify_records(session=session, organisation=org) for p in found]
                ok = ok and not problems
                report += [f"{org.slug}: BROKEN: {p}" for p in problems] or [f"{org.slug}: every check holds"]
    finally:
        engine.dispose()
    return report, ok
