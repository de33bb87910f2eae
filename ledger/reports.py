"""Balances computed in SQL (the figures the audit pages show; tests hold them against beancount).

Every figure comes from one grouped scan of ``ledger_postings`` restricted to the book's accounts
and, for a date, to ``Posting.date <= as_of``: the covering index
``ix_ledger_postings_account_sums`` answers it without reading the table (bench/README.md,
"Ledger").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Account, Book, JournalTransaction, Posting
from ledger.money import from_minor


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


@dataclass(frozen=True)
class Spending:
    """What the organisation spent from ``start`` to ``end`` under one module and one fund, in
    one currency: the sum of the Expenses legs of the general book's entries (debits less
    credits, so a reversal in the same range nets its entry out)."""

    plugin: str | None
    """The entries' ``plugin`` metadata (``"grants"``); ``None``: entries that name none."""
    fund: str | None
    """The entries' fund (their ``fund`` metadata, a fund's code); ``None``: charged to no fund."""
    currency: str
    """The currency of the legs (a cross-currency leg counts in its own currency, not its price's)."""
    amount: Decimal


def spending(session: Session, org_id: int, start: Date, end: Date) -> list[Spending]:
    """Expenses of the organisation's general book dated ``start`` to ``end`` (inclusive), by the
    ``plugin`` and ``fund`` metadata of their entries and by currency, ordered by those three.

    One grouped query over the entries of the range. Microbusiness books (a grant-funded
    business's own sales and costs) are not the organisation's spending and are left out. Each
    currency's total over every row equals the change in the general book's Expenses balances
    (:func:`balances`) over the range. Rows that net to zero are left out.
    """
    general = (
        select(Book.id).where(Book.org_id == org_id, Book.kind == "general").order_by(Book.id).limit(1).scalar_subquery()
    )
    # Grouped by the label: PostgreSQL would see two different ``meta ->> $n`` expressions.
    plugin = JournalTransaction.meta["plugin"].as_string().label("plugin_name")
    query = (
        select(plugin, JournalTransaction.fund, Posting.currency, func.sum(Posting.amount_minor))
        .join(Posting, Posting.transaction_id == JournalTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            JournalTransaction.book_id == general,
            Account.name.like("Expenses:%"),
            JournalTransaction.date >= start,
            JournalTransaction.date <= end,
        )
        .group_by(plugin, JournalTransaction.fund, Posting.currency)
    )
    rows = [
        Spending(name or None, fund or None, currency, from_minor(int(total), currency))
        for name, fund, currency, total in session.execute(query)
        if total
    ]
    return sorted(rows, key=lambda r: (r.plugin or "\uffff", r.fund or "\uffff", r.currency))
