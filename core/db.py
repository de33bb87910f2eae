"""Engine, sessions and the declarative base every model (core and plugins) shares."""

from __future__ import annotations

from datetime import date

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every table; plugins subclass it too so Alembic sees one metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def as_date(value: date | str | None) -> date | None:
    """A date read back from a SQL expression: SQLite gives ISO text (``coalesce``, ``max`` of
    dates), PostgreSQL a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Begin a SQLite transaction: ``BEGIN IMMEDIATE`` for a writing session (see
    :func:`make_session_factory`), which takes the write lock before the first read, so that what
    a transaction reads to decide what to write (the next receipt number, whether an account is
    open yet, what is left of a grant) cannot change under it. Other sessions leave the transaction
    to pysqlite, which begins one before the first write."""
    if connection.get_execution_options().get(IMMEDIATE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def refuse_changes(classes: tuple[type, ...], error: type[Exception], message: str) -> None:
    """Make rows of ``classes`` append-only at the ORM level: a flush that would update or delete
    one raises ``error(message)``. (Tables that hold money are also guarded by database triggers.)"""

    @event.listens_for(Session, "before_flush")
    def _refuse(session: Session, _context: object, _instances: object) -> None:
        for obj in session.dirty:
            if isinstance(obj, classes) and session.is_modified(obj):
                raise error(message)
        for obj in session.deleted:
            if isinstance(obj, classes):
                raise error(message)


def make_engine(database_url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(database_url, pool_pre_ping=True)


IMMEDIATE = "homecoming_sqlite_immediate"


def make_session_factory(engine: Engine, *, writes: bool = False) -> sessionmaker[Session]:
    """Sessions do not expire objects on commit, so a page can render what it just saved.

    ``writes=True``: sessions of an action that writes (a POST, a command). On SQLite their
    transactions start with ``BEGIN IMMEDIATE``: one writer at a time from its first read, waiting
    up to the busy timeout for the lock, so check-then-write code is serialised as ``FOR UPDATE``
    serialises it on PostgreSQL (where the option changes nothing). Reading sessions keep SQLite's
    deferred transactions, so pages are not queued behind writers.
    """
    bind = engine.execution_options(**{IMMEDIATE: True}) if writes else engine
    return sessionmaker(bind, expire_on_commit=False)
