"""``hc_ledger``: the pytest fixture for a module's ledger postings (docs/plugins.md, "Testing").

A pytest plugin of its own (entry point ``homecoming_ledger``) beside :mod:`core.testing`, whose
``hc_session`` and ``hc_org`` it uses: the ledger depends on core, never the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.models import Organisation
from ledger.api import (
    Account,
    Book,
    JournalTransaction,
    balances,
    check_org,
    credit,
    debit,
    find_account,
    from_minor,
    general_book,
    open_account,
)
from ledger.api import post as post_transaction


class LedgerHelper:
    """Posts to and reads an organisation's general book through the public ``ledger.api``, and
    commits, so that pages requested afterwards see the entries."""

    def __init__(self, session: Session, org: Organisation) -> None:
        self.session = session
        self.org = org

    @property
    def book(self) -> Book:
        """The organisation's general book (created on first use)."""
        return general_book(self.session, self.org.id)

    def open(self, account: str, currencies: Sequence[str] = ("USD",), on: date = date(2020, 1, 1)) -> Account:
        """Open ``account`` (``Assets:Bank:USD``) for ``currencies`` on ``on`` and return it."""
        opened = open_account(self.session, self.book, account, currencies, on)
        self.session.commit()
        return opened

    def post(
        self, day: date, narration: str, postings: Sequence[tuple[str, Decimal, str]], meta: dict[str, Any] | None = None
    ) -> JournalTransaction:
        """Post a transaction on ``day`` and return it. ``postings``: ``(account, amount,
        currency)`` with a positive amount for a debit, a negative one for a credit; accounts not
        yet open are opened (on 1 January 2020, or ``day`` if earlier) for the currencies they
        are given here. When the ledger refuses it (:class:`ledger.api.LedgerError`), the session
        is rolled back and nothing is written."""
        book = self.book
        currencies: dict[str, list[str]] = {}
        for account, _amount, currency in postings:
            currencies.setdefault(account, []).append(currency)
        for account, wanted in currencies.items():
            if find_account(self.session, book, account) is None:
                open_account(self.session, book, account, wanted, min(day, date(2020, 1, 1)))
        legs = [debit(a, amount, c) if amount >= 0 else credit(a, -amount, c) for a, amount, c in postings]
        try:
            txn = post_transaction(self.session, book, day, narration, legs, meta=meta)
        except Exception:
            self.session.rollback()
            raise
        self.session.commit()
        return txn

    def balance(self, account: str, currency: str = "USD") -> Decimal:
        """The balance of ``account`` in ``currency`` (debits positive), ``0`` without entries."""
        return from_minor(balances(self.session, self.book).get((account, currency), 0), currency)

    def check(self) -> list[str]:
        """Export the organisation's books as ``homecoming ledger check`` does and load them with
        beancount's own loader: the errors, ``"<file>: <message>"``, empty when the books are sound."""
        return [f"{name}: {error}" for name, errors in check_org(self.session, self.org).items() for error in errors]


@pytest.fixture
def hc_ledger(hc_session: Session, hc_org: Organisation) -> LedgerHelper:
    """A helper for ``hc_org``'s general book, built on the public ``ledger.api``; it commits:
    - ``hc_ledger.open(account, currencies=("USD",), on=date(2020, 1, 1))``
    - ``hc_ledger.post(day, narration, [(account, Decimal amount, currency), ...], meta=None)``:
      positive amounts debit, negative credit; missing accounts are opened; returns the transaction
    - ``hc_ledger.balance(account, currency="USD") -> Decimal``
    - ``hc_ledger.check() -> list[str]``: beancount's loader over the export, ``[]`` when clean
    - ``hc_ledger.book``: the :class:`ledger.api.Book`
    """
    return LedgerHelper(hc_session, hc_org)
