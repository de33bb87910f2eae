"""Balances computed in SQL (the figures the audit pages show; tests hold them against beancount).

Every figure comes from one grouped scan of ``ledger_postings`` restricted to the book's accounts
and, for a date, to ``Posting.date <= as_of``: the covering index
``ix_ledger_postings_account_sums`` answers it without reading the table (bench/README.md,
"Ledger").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date as Date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Account, Book, Posting


def sums(session: Session, book: Book, as_of: Date | None = None) -> list[tuple[int, str, str, int, int]]:
    """``(account id, currency, weight currency, sum of amounts, sum of weights)`` of the book's
    postings through ``as_of`` (inclusive; default: everything), in minor units."""
    accounts = select(Account.id).where(Account.book_id == book.id).scalar_subquery()
    query = (
        select(Posting.account_id, Posting.currency, Posting.weight_currency, func.sum(Posting.amount_minor), func.sum(Posting.weight_minor))
        .where(Posting.account_id.in_(accounts))
        .group_by(Posting.account_id, Posting.currency, Posting.weight_currency)
    )
    if as_of is not None:
        query = query.where(Posting.date <= as_of)
    return [(a, c, wc, int(amount), int(weight)) for a, c, wc, amount, weight in session.execute(query)]


def balances_from(rows: list[tuple[int, str, str, int, int]], names: dict[int, str]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for account_id, currency, _wc, amount, _weight in rows:
        out[(names[account_id], currency)] += amount
    return dict(out)


def weights_from(rows: list[tuple[int, str, str, int, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for _a, _c, weight_currency, _amount, weight in rows:
        out[weight_currency] += weight
    return dict(out)


def balances(session: Session, book: Book, as_of: Date | None = None) -> dict[tuple[str, str], int]:
    """``{(account name, currency): balance in minor units}`` of every account with entries,
    through ``as_of`` (inclusive; default: everything). Debits are positive."""
    names = dict(session.execute(select(Account.id, Account.name).where(Account.book_id == book.id)).all())
    return balances_from(sums(session, book, as_of), names)


def trial_balance(session: Session, book: Book, as_of: Date | None = None) -> dict[str, int]:
    """The sum of every leg's weight per currency: zero for each currency in a sound book.

    A cross-currency leg counts in its price currency (``100 USD @ 4100 KHR`` weighs
    410,000 KHR), as beancount balances it.
    """
    return weights_from(sums(session, book, as_of))
