"""Several threads post at once, each with its own session: no entry lost, no chain broken."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal as D

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core.models import Organisation
from ledger.api import Book, JournalTransaction, credit, debit, post
from ledger.check import verify_org
from tests.ledger.conftest import Ledger

THREADS, EACH = 6, 10


def test_concurrent_posters_keep_every_entry_and_the_chain(ledger: Ledger, session_factory) -> None:  # noqa: ANN001
    book_id = ledger.book.id
    errors: list[BaseException] = []
    retries = [0]

    def worker(n: int) -> None:
        try:
            for i in range(EACH):
                while True:  # SQLite answers "database is locked" to a writer that lost the race
                    with session_factory() as session:
                        try:
                            book = session.get(Book, book_id)
                            post(session, book, date(2026, 3, 1), f"thread {n} entry {i}",
                                 [debit("Assets:Bank:USD", D("1.01"), "USD"), credit("Income:Donations:Fund-A", D("1.01"), "USD")])
                            session.commit()
                            break
                        except (OperationalError, IntegrityError):
                            session.rollback()
                            retries[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(JournalTransaction)) == THREADS * EACH
        seqs = session.scalars(select(JournalTransaction.seq).order_by(JournalTransaction.seq)).all()
        assert seqs == list(range(1, THREADS * EACH + 1))
        assert verify_org(session, session.get(Organisation, ledger.org_id)) == []
    if ledger.session.bind.dialect.name == "postgresql":
        assert retries[0] == 0  # the book row lock serialises posters; nobody has to retry
