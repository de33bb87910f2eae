"""``homecoming backup`` and ``homecoming restore`` (core/backup.py) on SQLite and PostgreSQL:
a restored database equals its source table for table and row for row, with the same ledger
chain; the SQLite backup is consistent while the app writes; bad input is refused cleanly."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core import backup
from core.plugins import get_plugin_manager
from core.cli import main
from core.db import Base, make_engine, make_session_factory
from core.services.admin import create_organisation
from ledger.api import JournalTransaction, credit, debit, find_account, general_book, open_account, post


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args])


def post_some(session: Session, org_id: int, count: int, label: str = "tranche") -> None:
    """``count`` balanced entries in the organisation's general book (each extends its chain)."""
    book = general_book(session, org_id)
    for name in ("Assets:Bank:USD", "Expenses:Grants"):
        if find_account(session, book, name) is None:
            open_account(session, book, name, ["USD"], date(2026, 1, 1))
    for i in range(count):
        post(session, book, date(2026, 3, 1), f"{label} {i}", [
            debit("Expenses:Grants", Decimal("12.50"), "USD"),
            credit("Assets:Bank:USD", Decimal("12.50"), "USD"),
        ])


@pytest.fixture
def source(database_url: str, db: Session, world) -> str:  # noqa: ANN001 - the World fixture
    """The test's database with two organisations, staff of every role and ledger entries."""
    for key, count in (("a", 5), ("b", 3)):
        post_some(db, world.org_ids[key], count)
    db.commit()
    return database_url


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind (no schema at all: restore brings it)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(database_url)
    name = f"restored_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, sorted by primary key; and the Alembic revisions."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            in_db = set(inspect(conn).get_table_names()) - {"alembic_version"}
            assert in_db == set(Base.metadata.tables), "a table the models do not declare, or the other way round"
            rows = {}
            for table in Base.metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
            rows["alembic_version"] = sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()
    return rows


def chain(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t = JournalTransaction.__table__
            return [tuple(r) for r in conn.execute(select(t.c.book_id, t.c.seq, t.c.prev_hash, t.c.hash).order_by(t.c.book_id, t.c.seq))]
    finally:
        engine.dispose()


def test_a_restored_database_equals_its_source_table_for_table(source, empty_url, tmp_path):
    out = tmp_path / ("backup.db.gz" if source.startswith("sqlite") else "backup.dump")
    made = run(source, "backup", "--out", str(out))
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / f"{out.name}.json").read_text())
    assert manifest["database"] == make_url(source).get_backend_name()
    assert manifest["tables"][JournalTransaction.__tablename__] == 8

    restored = run(empty_url, "restore", str(out))
    assert restored.exit_code == 0, restored.output + restored.stderr
    assert "schema revision matches this code" in restored.output
    assert "org-a: every check holds" in restored.output and "org-b: every check holds" in restored.output

    before, after = snapshot(source), snapshot(empty_url)
    assert sum(len(rows) for rows in before.values()) > 20
    for name in before:
        assert after[name] == before[name], f"table {name} differs after restore"
    assert chain(empty_url) == chain(source) and len(chain(source)) == 8
    assert manifest["tables"] == {name: len(rows) for name, rows in before.items() if name != "alembic_version"} | {"alembic_version": len(before["alembic_version"])}


def test_restore_refuses_a_database_that_holds_data_unless_forced(source, tmp_path):
    out = tmp_path / "backup.bak"
    assert run(source, "backup", "--out", str(out)).exit_code == 0
    engine = make_engine(source)
    with make_session_factory(engine)() as session:  # written after the backup: lost by a restore
        org_id = session.scalar(text("SELECT id FROM organisations WHERE slug = 'org-a'"))
        post_some(session, org_id, 2, label="late")
        session.commit()
    engine.dispose()

    refused = run(source, "restore", str(out))
    assert refused.exit_code == 1
    assert "holds data" in refused.stderr and "--force" in refused.stderr
    assert len(chain(source)) == 10

    forced = run(source, "restore", "--force", str(out))
    assert forced.exit_code == 0, forced.output + forced.stderr
    assert len(chain(source)) == 8
    if source.startswith("sqlite"):
        kept = Path(make_url(source).database + ".before-restore")
        assert kept.exists() and "before-restore" in forced.output
        assert len(chain(f"sqlite:///{kept}")) == 10


@pytest.mark.parametrize("damage", ["junk", "truncated", "manifest", "wrong-kind"])
def test_a_bad_backup_file_gives_a_clear_error_and_no_traceback(database_url, tmp_path, damage):
    out = tmp_path / "backup.bak"
    if damage == "junk":
        out.write_bytes(b"this is not a backup\n" * 50)
        message = "not a Homecoming backup"
    else:
        assert run(database_url, "backup", "--out", str(out)).exit_code == 0
        if damage == "truncated":
            out.write_bytes(out.read_bytes()[: out.stat().st_size // 3])
            Path(f"{out}.json").unlink()
            message = "pg_restore failed" if database_url.startswith("postgresql") else "not a usable SQLite database"
        elif damage == "manifest":
            manifest = json.loads(Path(f"{out}.json").read_text())
            Path(f"{out}.json").write_text(json.dumps(manifest | {"sha256": "0" * 64}))
            message = "SHA-256 differs"
        else:
            out.write_bytes(b"PGDMP" + b"\0" * 100 if database_url.startswith("sqlite") else b"SQLite format 3\x00" + b"\0" * 100)
            Path(f"{out}.json").unlink()
            message = "backup; the target database is"
    target = f"sqlite:///{tmp_path / 'target.db'}" if database_url.startswith("sqlite") else database_url
    result = run(target, "restore", "--force", str(out))
    assert result.exit_code == 1
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output + result.stderr and isinstance(result.exception, SystemExit)


def test_the_sqlite_backup_is_consistent_while_the_app_writes(tmp_path, _sqlite_template):
    path = tmp_path / "live.db"
    shutil.copy(_sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        org_id = create_organisation(session, "live", "Live", []).id
        post_some(session, org_id, 1)
        session.commit()
    stop, written, errors = threading.Event(), [], []

    def writer() -> None:
        try:
            with make_session_factory(engine)() as session:
                while not stop.is_set():
                    post_some(session, org_id, 1, label=f"live {len(written)}")
                    session.commit()
                    written.append(1)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        started, manifests = len(written), []
        # Back up again and again until the app has committed while backups ran (at least 3 copies).
        while len(manifests) < 3 or (len(written) == started and len(manifests) < 200):
            manifests.append(backup.backup(url, tmp_path / f"live-{len(manifests)}.db"))
        during = len(written) - started
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    assert not errors, errors
    assert during > 0, "the writer never committed while backups ran"

    for i, manifest in enumerate(manifests[-3:], start=len(manifests) - 3):
        copy = tmp_path / f"live-{i}.db"
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        seqs = [r[0] for r in conn.execute(f"SELECT seq FROM {JournalTransaction.__tablename__} ORDER BY seq")]
        conn.close()
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == manifest.tables[JournalTransaction.__tablename__]
        report, ok = backup.verify_records(f"sqlite:///{copy}", get_plugin_manager())
        assert ok, report
    assert len(chain(url)) > len(seqs)


def test_a_gzip_backup_is_a_compressed_sqlite_database(tmp_path, _sqlite_template):
    out = tmp_path / "b.db.gz"
    manifest = backup.backup(f"sqlite:///{_sqlite_template}", out)
    assert manifest.compressed and gzip.open(out).read(16) == backup.SQLITE_MAGIC
    assert backup.detect(out) == ("sqlite", True)


def test_pg_tools_get_the_connection_from_the_environment_never_the_command_line():
    env = backup.pg_environment("postgresql+psycopg://hc:s3cr%40t@db.example:5433/homecoming?sslmode=require")
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "db.example", "5433", "hc", "s3cr@t", "homecoming", "require")
    socket = backup.pg_environment("postgresql+psycopg://postgres@/hc_test?host=/tmp/pg/socket&port=54400")
    assert (socket["PGHOST"], socket["PGPORT"], socket["PGDATABASE"]) == ("/tmp/pg/socket", "54400", "hc_test")
