"""Read-only queries behind the ledger's audit pages, always scoped to the user's organisation.

A book, account or transaction of another organisation is :class:`RecordNotFound` (a 404), as
core treats any record of another organisation. Amounts come back as ``Decimal`` (from the
integer minor units), never float.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from core.context import Context
from core.errors import RecordNotFound
from core.models import Case, User
from ledger.models import Account, Book, ClosedPeriod, Fund, JournalTransaction, Posting
from ledger.money import from_minor
from ledger.rates import Converter
from ledger.reports import balances_from, weights_from
from ledger.reports import sums as posting_sums

JOURNAL_PAGE = 50
T = TypeVar("T")


def books(ctx: Context) -> list[Book]:
    return list(ctx.session.scalars(select(Book).where(Book.org_id == ctx.org_id).order_by(Book.id)))


def _owned(ctx: Context, model: type[T], record_id: int) -> T:
    """The record of the user's organisation with this id (another organisation's: 404)."""
    record = ctx.session.scalar(select(model).where(model.id == record_id, model.org_id == ctx.org_id))  # type: ignore[attr-defined]
    if record is None:
        raise RecordNotFound
    return record


def get_book(ctx: Context, book_id: int) -> Book:
    return _owned(ctx, Book, book_id)


def get_account(ctx: Context, account_id: int) -> tuple[Account, Book]:
    row = ctx.session.execute(
        select(Account, Book).join(Book, Book.id == Account.book_id).where(Account.id == account_id, Book.org_id == ctx.org_id)
    ).first()
    if row is None:
        raise RecordNotFound
    return row[0], row[1]


def get_transaction(ctx: Context, txn_id: int) -> tuple[JournalTransaction, Book]:
    row = ctx.session.execute(
        select(JournalTransaction, Book)
        .join(Book, Book.id == JournalTransaction.book_id)
        .where(JournalTransaction.id == txn_id, Book.org_id == ctx.org_id)
    ).first()
    if row is None:
        raise RecordNotFound
    return row[0], row[1]


def get_case(ctx: Context, case_id: int) -> Case:
    return _owned(ctx, Case, case_id)


@dataclass(frozen=True)
class TrialRow:
    account: Account
    currency: str
    balance: Decimal  # debit > 0


@dataclass(frozen=True)
class TrialBalance:
    rows: list[TrialRow]
    #: per currency: the sum of the account balances, what converting at the recorded prices
    #: adds (beancount's Equity:Conversions), and the total of the weights, zero in a sound book
    currencies: list[str]
    sums: dict[str, Decimal]
    conversions: dict[str, Decimal]
    totals: dict[str, Decimal]


def trial_balance_of(ctx: Context, book: Book, on: Date) -> TrialBalance:
    """Every account's balance per currency through ``on`` (inclusive), and the totals."""
    accounts = {a.name: a for a in ctx.session.scalars(select(Account).where(Account.book_id == book.id))}
    rows = posting_sums(ctx.session, book, on)  # one scan for both the balances and the weights
    amounts = balances_from(rows, {a.id: name for name, a in accounts.items()})
    weights = weights_from(rows)
    rows = [TrialRow(accounts[name], c, from_minor(v, c)) for (name, c), v in sorted(amounts.items()) if v]
    sums: dict[str, int] = defaultdict(int)
    for (_name, c), v in amounts.items():
        sums[c] += v
    currencies = sorted(set(sums) | set(weights))
    return TrialBalance(
        rows=rows,
        currencies=currencies,
        sums={c: from_minor(sums.get(c, 0), c) for c in currencies},
        conversions={c: from_minor(weights.get(c, 0) - sums.get(c, 0), c) for c in currencies},
        totals={c: from_minor(weights.get(c, 0), c) for c in currencies},
    )


@dataclass(frozen=True)
class JournalLine:
    transaction_id: int
    date: Date
    narration: str
    currency: str
    amount: Decimal
    balance: Decimal
    reversal: bool


def journal(ctx: Context, account: Account, page: int) -> tuple[list[JournalLine], bool]:
    """An account's postings in date order with the running balance per currency (50 a page)."""
    order = (JournalTransaction.date, JournalTransaction.seq, Posting.id)
    running = func.sum(Posting.amount_minor).over(partition_by=Posting.currency, order_by=order)
    query = (
        select(
            JournalTransaction.id, JournalTransaction.date, JournalTransaction.narration,
            JournalTransaction.reverses_id, Posting.currency, Posting.amount_minor, running,
        )
        .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
        .where(Posting.account_id == account.id)
        .order_by(*order)
        .offset((page - 1) * JOURNAL_PAGE)
        .limit(JOURNAL_PAGE + 1)
    )
    rows = ctx.session.execute(query).all()
    lines = [
        JournalLine(tid, d, narration, c, from_minor(amount, c), from_minor(int(total), c), reverses is not None)
        for tid, d, narration, reverses, c, amount, total in rows[:JOURNAL_PAGE]
    ]
    return lines, len(rows) > JOURNAL_PAGE


def reversal_of(ctx: Context, txn: JournalTransaction) -> JournalTransaction | None:
    """The entry that reverses ``txn``, if any."""
    return ctx.session.scalar(select(JournalTransaction).where(JournalTransaction.reverses_id == txn.id))


def user_name(ctx: Context, user_id: int | None) -> str | None:
    return None if user_id is None else ctx.session.scalar(select(User.name).where(User.id == user_id))


def reversals(ctx: Context, book: Book) -> list[tuple[JournalTransaction, JournalTransaction]]:
    """``(reversal, original)`` pairs of ``book``, newest first."""
    original = aliased(JournalTransaction)
    return [
        (r, o)
        for r, o in ctx.session.execute(
            select(JournalTransaction, original)
            .join(original, original.id == JournalTransaction.reverses_id)
            .where(JournalTransaction.book_id == book.id)
            .order_by(JournalTransaction.date.desc(), JournalTransaction.seq.desc())
        )
    ]


def closed_periods(ctx: Context, book: Book) -> list[tuple[ClosedPeriod, str | None]]:
    """The book's period closes, latest first, with who closed each."""
    return [
        (p, name)
        for p, name in ctx.session.execute(
            select(ClosedPeriod, User.name)
            .outerjoin(User, User.id == ClosedPeriod.closed_by)
            .where(ClosedPeriod.book_id == book.id)
            .order_by(ClosedPeriod.through.desc())
        )
    ]


def _statement(ctx: Context, *conditions: Any) -> list[tuple[JournalTransaction, Book]]:
    return [
        (t, b)
        for t, b in ctx.session.execute(
            select(JournalTransaction, Book)
            .join(Book, Book.id == JournalTransaction.book_id)
            .where(Book.org_id == ctx.org_id, *conditions)
            .order_by(JournalTransaction.date, JournalTransaction.book_id, JournalTransaction.seq)
        )
    ]


def case_statement(ctx: Context, case: Case) -> list[tuple[JournalTransaction, Book]]:
    """Every transaction of the organisation's books whose metadata ``case_id`` is ``case``."""
    return _statement(ctx, JournalTransaction.case_id == case.id)


def grant_statement(ctx: Context, grant_id: int) -> list[tuple[JournalTransaction, Book]]:
    """Every transaction of the organisation's books whose metadata ``grant_id`` is ``grant_id``
    (the general book's disbursements and repayments, and the microbusiness's own book)."""
    return _statement(ctx, JournalTransaction.grant_id == grant_id)


def fund_statement(ctx: Context, fund: Fund, page: int) -> tuple[list[JournalTransaction], bool]:
    """The fund's entries, newest first, 50 a page."""
    rows = list(
        ctx.session.scalars(
            select(JournalTransaction)
            .join(Book, Book.id == JournalTransaction.book_id)
            .where(Book.org_id == ctx.org_id, Book.kind == "general", JournalTransaction.fund == fund.code)
            .order_by(JournalTransaction.date.desc(), JournalTransaction.seq.desc())
            .offset((page - 1) * JOURNAL_PAGE)
            .limit(JOURNAL_PAGE + 1)
        )
    )
    return rows[:JOURNAL_PAGE], len(rows) > JOURNAL_PAGE


def statement_totals(rows: list[tuple[JournalTransaction, Book]]) -> list[tuple[Book, str, str, Decimal]]:
    """``(book, account, currency, total)`` of the statement's legs, debits positive."""
    totals: dict[tuple[int, str, str], int] = defaultdict(int)
    books_by_id: dict[int, Book] = {}
    for t, b in rows:
        books_by_id[b.id] = b
        for p in t.postings:
            totals[(b.id, p.account.name, p.currency)] += p.amount_minor
    return [(books_by_id[bid], a, c, from_minor(v, c)) for (bid, a, c), v in sorted(totals.items()) if v]


def get_fund(ctx: Context, fund_id: int) -> Fund:
    return _owned(ctx, Fund, fund_id)


@dataclass(frozen=True)
class ConvertedRow:
    account: Account
    balance: Decimal  # debit > 0, in the report currency


@dataclass(frozen=True)
class ConvertedTrialBalance:
    currency: str
    rows: list[ConvertedRow]
    total: Decimal
    rates: list[tuple[str, str, Decimal, Date]]


def converted_trial_balance(ctx: Context, book: Book, tb: TrialBalance, currency: str, on: Date) -> ConvertedTrialBalance:
    """The trial balance with every account's balances converted into ``currency`` at the rates
    of ``on`` and added up per account. The total is what converting at one day's rates (instead
    of each entry's own rate) and rounding leave over; it is zero when no rate moved."""
    convert = Converter(ctx.session, ctx.org_id, currency, on)
    per_account: dict[int, Decimal] = defaultdict(Decimal)
    accounts: dict[int, Account] = {}
    for r in tb.rows:
        accounts[r.account.id] = r.account
        per_account[r.account.id] += convert(r.balance, r.currency)
    rows = [ConvertedRow(accounts[i], v) for i, v in sorted(per_account.items(), key=lambda kv: accounts[kv[0]].name) if v]
    return ConvertedTrialBalance(currency, rows, sum((r.balance for r in rows), Decimal(0)), convert.used())


def leg_amount(p: Posting) -> Decimal:
    return from_minor(p.amount_minor, p.currency)
