"""Balances computed in SQL (the figures the audit pages show; tests hold them against beancount)."""

from __future__ import annotations

from datetime import date as Date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Account, Book, JournalTransaction, Posting


def balances(session: Session, book: Book, as_of: Date | None = None) -> dict[tuple[str, str], int]:
    """``{(account name, currency): balance in minor units}`` of every account with entries,
    through ``as_of`` (inclusive; default: everything). Debits are positive."""
    query = (
        select(Account.name, Posting.currency, func.sum(Posting.amount_minor))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
        .where(JournalTransaction.book_id == book.id)
        .group_by(Account.name, Posting.currency)
    )
    if as_of is not None:
        query = query.where(JournalTransaction.date <= as_of)
    return {(name, currency): int(total) for name, currency, total in session.execute(query)}


def trial_balance(session: Session, book: Book, as_of: Date | None = None) -> dict[str, int]:
    """The sum of every leg's weight per currency: zero for each currency in a sound book.

    A cross-currency leg counts in its price currency (``100 USD @ 4100 KHR`` weighs
    410,000 KHR), as beancount balances it.
    """
    query = (
        select(Posting.weight_currency, func.sum(Posting.weight_minor))
        .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
        .where(JournalTransaction.book_id == book.id)
        .group_by(Posting.weight_currency)
    )
    if as_of is not None:
        query = query.where(JournalTransaction.date <= as_of)
    return {currency: int(total) for currency, total in session.execute(query)}
