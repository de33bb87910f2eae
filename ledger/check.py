"""Checks: beancount's own loader over the export, and the hash chain of every book."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from beancount import loader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Organisation
from ledger.chain import GENESIS, transaction_hash
from ledger.export import write_org
from ledger.models import Account, Book, CheckRun, JournalTransaction

_PLUGIN = re.compile(r"^\s*plugin\s+\"", re.MULTILINE)


def load_own_text(text: str) -> tuple[list, list, dict]:
    """Load text this app generated (never text from users: ``plugin`` directives run Python)."""
    if _PLUGIN.search(text):
        raise ValueError("refusing to load ledger text with a plugin directive")
    return loader.load_string(text)


def check_org(session: Session, org: Organisation) -> dict[str, list[str]]:
    """``{file name: [error, ...]}`` for every book of ``org``: written to a temporary folder with
    its documents, as ``homecoming ledger export`` writes it, and loaded from there by beancount's
    loader (which also checks that every ``document`` names a file that exists)."""
    result: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="homecoming-check-") as folder:
        for path in write_org(session, org, Path(folder)):
            if _PLUGIN.search(path.read_text(encoding="utf-8")):
                raise ValueError("refusing to load ledger text with a plugin directive")
            _entries, errors, _options = loader.load_file(str(path))
            result[path.name] = [_format_error(e) for e in errors]
    return result


def _format_error(error) -> str:  # noqa: ANN001 - beancount's error namedtuples
    meta = getattr(error, "source", None) or {}
    line = meta.get("lineno") if isinstance(meta, dict) else None
    return f"line {line}: {error.message}" if line else str(error.message)


@dataclass(frozen=True)
class ChainBreak:
    """The first row of a book whose chain does not hold."""

    book_id: int
    book_name: str
    transaction_id: int
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"book {self.book_id} ({self.book_name}): transaction {self.transaction_id} (seq {self.seq}): {self.problem}"


def verify_book(session: Session, book: Book) -> ChainBreak | None:
    """Recompute the chain of ``book`` and return its first broken row (``None``: intact)."""
    names = dict(session.execute(select(Account.id, Account.name).where(Account.book_id == book.id)).all())
    expected_seq, prev = 1, GENESIS
    txns = session.scalars(
        select(JournalTransaction).where(JournalTransaction.book_id == book.id).order_by(JournalTransaction.seq)
    )
    for t in txns:
        def broken(problem: str) -> ChainBreak:
            return ChainBreak(book.id, book.name, t.id, t.seq, problem)

        if t.seq != expected_seq:
            return broken(f"expected seq {expected_seq}: a row before it was deleted or inserted")
        if t.prev_hash != prev:
            return broken("its prev_hash is not the hash of the row before it")
        if not t.postings:
            return broken("it has no postings (deleted)")
        if transaction_hash(t, names) != t.hash:
            return broken("its content does not match its hash (changed)")
        meta = t.meta or {}
        if (t.fund, t.case_id, t.grant_id) != (meta.get("fund"), meta.get("case_id"), meta.get("grant_id")):
            return broken("its fund, case_id or grant_id column differs from its metadata (changed)")
        if any(p.date != t.date for p in t.postings):
            return broken("a posting's date differs from its entry's (changed)")
        expected_seq, prev = expected_seq + 1, t.hash
    return None


def verify_org(session: Session, org: Organisation) -> list[ChainBreak]:
    """The first broken row of each book of ``org`` (empty: every chain holds)."""
    books = session.scalars(select(Book).where(Book.org_id == org.id).order_by(Book.id))
    return [b for b in (verify_book(session, book) for book in books) if b is not None]


def run_and_record(session: Session, org: Organisation, kind: str, *, ran_by: int | None = None, source: str = "web") -> CheckRun:
    """Run ``check`` or ``verify`` over every book of ``org`` and record the result (flushed, not
    committed); the audit pages show the latest of each."""
    if kind == "check":
        found = check_org(session, org)
        report = [f"{name}: {error}" for name, errors in found.items() for error in errors]
        report += [f"{name}: ok" for name, errors in found.items() if not errors]
        ok = not any(found.values())
    elif kind == "verify":
        breaks = verify_org(session, org)
        report = [str(b) for b in breaks] or ["every chain holds"]
        ok = not breaks
    else:
        raise ValueError(f"unknown check {kind!r}")
    count = session.scalar(
        select(func.count()).select_from(JournalTransaction).join(Book, Book.id == JournalTransaction.book_id).where(Book.org_id == org.id)
    )
    run = CheckRun(org_id=org.id, kind=kind, ok=ok, report=report, transactions=count or 0, ran_by=ran_by, source=source)
    session.add(run)
    session.flush()
    return run


def latest_runs(session: Session, org_id: int) -> dict[str, CheckRun]:
    """The latest run of each kind (``"check"``, ``"verify"``) for the organisation."""
    latest = (
        select(func.max(CheckRun.id)).where(CheckRun.org_id == org_id).group_by(CheckRun.kind).scalar_subquery()
    )
    return {r.kind: r for r in session.scalars(select(CheckRun).where(CheckRun.id.in_(latest)))}
