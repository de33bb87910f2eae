"""Checks: beancount's own loader over the export, and the hash chain of every book."""

from __future__ import annotations

import re
from dataclasses import dataclass

from beancount import loader
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Organisation
from ledger.chain import GENESIS, transaction_hash
from ledger.export import export_org
from ledger.models import Account, Book, JournalTransaction

_PLUGIN = re.compile(r"^\s*plugin\s+\"", re.MULTILINE)


def load_own_text(text: str) -> tuple[list, list, dict]:
    """Load text this app generated (never text from users: ``plugin`` directives run Python)."""
    if _PLUGIN.search(text):
        raise ValueError("refusing to load ledger text with a plugin directive")
    return loader.load_string(text)


def check_org(session: Session, org: Organisation) -> dict[str, list[str]]:
    """``{file name: [error, ...]}`` for every book of ``org``, loaded by beancount's loader."""
    result: dict[str, list[str]] = {}
    for exported in export_org(session, org):
        _entries, errors, _options = load_own_text(exported.text)
        result[exported.filename] = [_format_error(e) for e in errors]
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
        expected_seq, prev = expected_seq + 1, t.hash
    return None


def verify_org(session: Session, org: Organisation) -> list[ChainBreak]:
    """The first broken row of each book of ``org`` (empty: every chain holds)."""
    books = session.scalars(select(Book).where(Book.org_id == org.id).order_by(Book.id))
    return [b for b in (verify_book(session, book) for book in books) if b is not None]
