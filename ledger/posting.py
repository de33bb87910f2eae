"""Posting to the ledger: books, accounts, balanced transactions, reversals, period close.

Every function runs in the caller's database transaction: it adds and flushes, never commits, so
a domain change and its journal entry commit together or not at all. A refused action raises
:class:`LedgerError` before anything is written.

Sign convention: a caller gives each leg a **positive** ``Decimal`` and a side, with
:func:`debit` and :func:`credit`. The database stores the signed amount as beancount does
(debit > 0, credit < 0) in integer minor units.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from core.i18n import gettext as _
from core.models import Case, utcnow
from ledger.chain import GENESIS, canonical_text, digest
from ledger.models import Account, Book, ClosedPeriod, Fund, JournalTransaction, Posting, Price
from ledger.money import MINOR_DIGITS, LedgerError, digits, to_minor

ACCOUNT_NAME = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9\-]*)+$")
LINK_OR_TAG = re.compile(r"^[A-Za-z0-9\-_/.]+$")
META_KEY = re.compile(r"^[a-z][a-zA-Z0-9\-_]*$")
FLAGS = frozenset("*!")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Leg:
    """One leg as a caller gives it: a positive amount on a side of an account.

    ``price``: for a cross-currency leg, the rate to ``price_currency`` (``100 USD @ 4100 KHR``);
    the leg then counts as ``amount x price`` in ``price_currency``, which must be exact in that
    currency's minor units.
    """

    account: str
    amount: Decimal
    currency: str
    side: Literal["debit", "credit"]
    price: Decimal | None = None
    price_currency: str | None = None


def debit(account: str, amount: Decimal, currency: str, *, price: Decimal | None = None, price_currency: str | None = None) -> Leg:
    """A debit leg (assets and expenses go up)."""
    return Leg(account, amount, currency, "debit", price, price_currency)


def credit(account: str, amount: Decimal, currency: str, *, price: Decimal | None = None, price_currency: str | None = None) -> Leg:
    """A credit leg (income, liabilities and equity go up; assets go down)."""
    return Leg(account, amount, currency, "credit", price, price_currency)


# --- books, accounts, prices ---------------------------------------------------------------------


def general_book(session: Session, org_id: int) -> Book:
    """The organisation's general book, created on first use."""
    book = session.scalar(select(Book).where(Book.org_id == org_id, Book.kind == "general").order_by(Book.id))
    if book is None:
        book = Book(org_id=org_id, kind="general", name="General")
        session.add(book)
        session.flush()
    return book


def create_book(session: Session, org_id: int, name: str, kind: str = "microbusiness", reference: str | None = None) -> Book:
    """A further book of the organisation (a microbusiness's small book)."""
    if kind not in ("general", "microbusiness"):
        raise LedgerError(_("Unknown kind of book: %(kind)s.", kind=kind), "kind")
    if session.scalar(select(Book.id).where(Book.org_id == org_id, Book.name == name)) is not None:
        raise LedgerError(_("The organisation already has a book named %(name)s.", name=name), "name")
    book = Book(org_id=org_id, kind=kind, name=name, reference=reference)
    session.add(book)
    session.flush()
    return book


def open_account(session: Session, book: Book, name: str, currencies: Iterable[str], opened_on: Date) -> Account:
    """Open an account (beancount naming: ``Assets:Bank:USD``) for the given currencies."""
    if not ACCOUNT_NAME.match(name):
        raise LedgerError(
            _(
                "%(name)s is not an account name: it starts with Assets, Liabilities, Equity, Income "
                "or Expenses, then parts separated by ':', each starting with a capital letter or a digit "
                "(letters, digits and '-' only).",
                name=repr(name),
            ),
            "name",
        )
    currencies = list(dict.fromkeys(currencies))
    if not currencies:
        raise LedgerError(_("An account allows at least one currency."), "currencies")
    for currency in currencies:
        digits(currency)
    if find_account(session, book, name) is not None:
        raise LedgerError(_("Account %(account)s is already open in this book.", account=name), "name")
    account = Account(book_id=book.id, name=name, currencies=",".join(currencies), opened_on=opened_on)
    session.add(account)
    session.flush()
    return account


def find_account(session: Session, book: Book, name: str) -> Account | None:
    """The account of ``book`` named ``name``, or ``None``."""
    return session.scalar(select(Account).where(Account.book_id == book.id, Account.name == name))


def payment_accounts(session: Session, org_id: int, currency: str | None = None, exclude: Iterable[str] = ()) -> list[str]:
    """The general book's open asset accounts money can be paid from (``Assets:...``), allowing
    ``currency`` when given, by name; ``exclude`` leaves some out (a stock account). What a
    module's settings offer as "pay from" for each currency."""
    book = general_book(session, org_id)
    left_out = set(exclude)
    rows = session.scalars(
        select(Account).where(Account.book_id == book.id, Account.name.startswith("Assets:"), Account.closed_on.is_(None)).order_by(Account.name)
    )
    return [a.name for a in rows if a.name not in left_out and (currency is None or currency in a.currencies.split(","))]


def check_payment_accounts(
    session: Session, org_id: int, chosen: Mapping[str, tuple[str, str | None]], exclude: Iterable[str] = ()
) -> dict[str, str]:
    """Field messages for the chosen pay-from accounts that are not :func:`payment_accounts` of
    their currency: ``chosen`` is ``{form field: (currency, account or empty)}``; an empty choice
    is no error (the module asks for it when paying)."""
    errors: dict[str, str] = {}
    for field, (currency, account) in chosen.items():
        if account and account not in payment_accounts(session, org_id, currency, exclude):
            errors[field] = _("Choose an open asset account of the general book that holds %(currency)s.", currency=currency)
    return errors


def ensure_account(session: Session, book: Book, name: str, currencies: Iterable[str]) -> Account:
    """The account named ``name``, opened on first use (how a module opens the accounts it posts
    to). It is dated with the book's first account, so that back-dated entries find it open."""
    account = find_account(session, book, name)
    if account is not None:
        return account
    first = session.scalar(select(func.min(Account.opened_on)).where(Account.book_id == book.id))
    if session.get_bind().dialect.name != "postgresql":
        # SQLite takes one writer at a time; a savepoint there needs the pysqlite workaround.
        return open_account(session, book, name, currencies, first or Date.today())
    try:
        # Two first payments at once both find no account: the second insert waits for the first
        # transaction and then conflicts; roll back to the savepoint and use the account it opened.
        with session.begin_nested():
            return open_account(session, book, name, currencies, first or Date.today())
    except IntegrityError:
        account = find_account(session, book, name)
        if account is None:
            raise
        return account


def close_account(session: Session, account: Account, closed_on: Date) -> None:
    """Close an account: nothing may be posted to it after ``closed_on``."""
    if closed_on < account.opened_on:
        raise LedgerError(_("An account cannot close before it opened."), "closed_on")
    last = session.scalar(
        select(func.max(JournalTransaction.date))
        .join(Posting, Posting.transaction_id == JournalTransaction.id)
        .where(Posting.account_id == account.id)
    )
    if last is not None and last > closed_on:
        raise LedgerError(_("Account %(account)s has entries after %(date)s.", account=account.name, date=closed_on), "closed_on")
    account.closed_on = closed_on
    session.flush()


def record_price(session: Session, org_id: int, on: Date, base: str, quote: str, rate: Decimal) -> Price:
    """Record an exchange rate: on ``on``, 1 ``base`` = ``rate`` ``quote``."""
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise LedgerError(_("A rate is a positive Decimal."), "rate")
    digits(base), digits(quote)
    price = Price(org_id=org_id, date=on, base=base, quote=quote, rate=str(rate))
    session.add(price)
    session.flush()
    return price


# --- posting ---------------------------------------------------------------------------------------

# post()'s reads, built once: building a statement and its cache key on every call cost about a
# fifth of a post (bench/ledger.py, bench/README.md "Ledger").
_LOCK_BOOK = select(Book.id, Book.org_id).where(Book.id == bindparam("book_id")).with_for_update()
_CLOSED_THROUGH = select(func.max(ClosedPeriod.through)).where(ClosedPeriod.book_id == bindparam("book_id"))
_ACCOUNTS = select(Account.id, Account.name, Account.currencies, Account.opened_on, Account.closed_on).where(
    Account.book_id == bindparam("book_id"), Account.name.in_(bindparam("names", expanding=True))
)
_CASE_OF_ORG = select(Case.id).where(Case.id == bindparam("case_id"), Case.org_id == bindparam("org_id"))
_FUNDS = select(Fund.code, Fund.income_account).where(
    Fund.org_id == bindparam("org_id"),
    or_(Fund.code == bindparam("code"), Fund.income_account.in_(bindparam("accounts", expanding=True))),
)
_LAST_ROW = (
    select(JournalTransaction.seq, JournalTransaction.hash)
    .where(JournalTransaction.book_id == bindparam("book_id"))
    .order_by(JournalTransaction.seq.desc())
    .limit(1)
)


def post(
    session: Session,
    book: Book,
    date: Date,
    narration: str,
    postings: Sequence[Leg],
    *,
    payee: str | None = None,
    flag: str = "*",
    meta: dict[str, Any] | None = None,
    links: Iterable[str] = (),
    tags: Iterable[str] = (),
    created_by: int | None = None,
    _reverses_id: int | None = None,
) -> JournalTransaction:
    """Post a balanced transaction to ``book`` and return it (written in the caller's transaction, not committed).

    :param postings: :func:`debit` and :func:`credit` legs, positive ``Decimal`` amounts.
    :param meta: string, integer or Decimal values under lower-case keys; ``case_id``,
        ``grant_id`` and ``plugin`` are exported as beancount metadata.
    :param links: e.g. ``grant-12`` (exported as ``^grant-12``).
    :raises LedgerError: it does not balance per currency, an account is unknown, not open on
        ``date`` or does not allow the currency, the period is closed, or an amount is not a
        positive Decimal. Nothing is written.
    """
    if not isinstance(date, Date):
        raise LedgerError(_("The date must be a date."), "date")
    if flag not in FLAGS:
        raise LedgerError(_("The flag must be one of %(flags)s.", flags="".join(sorted(FLAGS))), "flag")
    if not isinstance(narration, str):
        raise LedgerError(_("The narration must be text."), "narration")
    for label, value in (("narration", narration), ("payee", payee or "")):
        if CONTROL.search(value):
            raise LedgerError(_("Line breaks and control characters are not allowed here."), label)
    links, tags = list(dict.fromkeys(links)), list(dict.fromkeys(tags))
    for value in (*links, *tags):
        if not LINK_OR_TAG.match(value):
            raise LedgerError(_("%(value)s is not a valid link or tag (letters, digits, - _ / .).", value=repr(value)), "links")
    meta = _check_meta(meta or {})
    if len(postings) < 2:
        raise LedgerError(_("A transaction has at least two legs."), "postings")

    # Lock the book (PostgreSQL: SELECT ... FOR UPDATE; SQLite serialises writers itself), so the
    # chain's last row cannot change under us.
    locked = session.execute(_LOCK_BOOK, {"book_id": book.id}).first()
    if locked is None:
        raise LedgerError(_("There is no such book."), "book")

    closed_through = session.scalar(_CLOSED_THROUGH, {"book_id": book.id})
    if closed_through is not None and date <= closed_through:
        raise LedgerError(_("The period through %(date)s is closed; post on a later date.", date=closed_through), "date")

    names = {leg.account for leg in postings if isinstance(leg, Leg)}
    accounts = {a.name: a for a in session.execute(_ACCOUNTS, {"book_id": book.id, "names": list(names)})}
    rows: list[dict[str, Any]] = []
    leg_accounts: list[Any] = []
    weights: dict[str, int] = defaultdict(int)
    for leg in postings:
        if not isinstance(leg, Leg):
            raise LedgerError(_("Each leg is made with ledger.api.debit() or credit()."), "postings")
        if leg.side not in ("debit", "credit"):
            raise LedgerError(_("The side must be debit or credit, not %(side)s.", side=repr(leg.side)), "postings")
        account = accounts.get(leg.account)
        if account is None:
            raise LedgerError(_("Account %(account)s is not open in this book.", account=leg.account), "postings")
        if date < account.opened_on or (account.closed_on is not None and date > account.closed_on):
            raise LedgerError(_("Account %(account)s is not open on %(date)s.", account=leg.account, date=date), "postings")
        if leg.currency not in account.currencies.split(","):
            raise LedgerError(_("Account %(account)s does not allow %(currency)s.", account=leg.account, currency=leg.currency), "postings")
        minor = to_minor(leg.amount, leg.currency)
        if minor <= 0:
            raise LedgerError(
                _("Amounts are positive (given %(amount)s %(currency)s); choose the side instead.", amount=leg.amount, currency=leg.currency),
                "postings",
            )
        signed = minor if leg.side == "debit" else -minor
        rate = currency = None
        if leg.price is None and leg.price_currency is None:
            weight, weight_currency = signed, leg.currency
        else:
            if not isinstance(leg.price, Decimal) or not leg.price.is_finite() or leg.price <= 0:
                raise LedgerError(_("A price is a positive Decimal."), "postings")
            if leg.price_currency is None or leg.price_currency == leg.currency:
                raise LedgerError(_("A price needs another currency to convert into."), "postings")
            exact = (leg.amount * leg.price).scaleb(digits(leg.price_currency))
            if exact != exact.to_integral_value():
                raise LedgerError(
                    _(
                        "%(amount)s %(currency)s @ %(price)s %(quote)s is not a whole number of %(quote)s minor "
                        "units; put the price on the other leg or round the amount.",
                        amount=leg.amount, currency=leg.currency, price=leg.price, quote=leg.price_currency,
                    ),
                    "postings",
                )
            weight = int(exact) if leg.side == "debit" else -int(exact)
            weight_currency = leg.price_currency
            rate, currency = format(leg.price, "f"), leg.price_currency
        weights[weight_currency] += weight
        leg_accounts.append(account)
        rows.append({
            "account_id": account.id, "amount_minor": signed, "currency": leg.currency, "price_rate": rate,
            "price_currency": currency, "weight_minor": weight, "weight_currency": weight_currency, "date": date,
        })
    unbalanced = {c: w for c, w in weights.items() if w != 0}
    if unbalanced:
        detail = ", ".join(f"{_fmt(w, c)} {c}" for c, w in sorted(unbalanced.items()))
        raise LedgerError(_("The transaction does not balance: debits minus credits = %(detail)s.", detail=detail), "postings")

    fund, case_id, grant_id = _dimensions(session, locked.org_id, meta, names)

    last = session.execute(_LAST_ROW, {"book_id": book.id}).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    text = canonical_text(
        book_id=book.id, seq=seq, date=date.isoformat(), flag=flag, payee=payee, narration=narration,
        meta=meta, links=links, tags=tags, reverses_id=_reverses_id, created_by=created_by,
        postings=[(a.name, r["amount_minor"], r["currency"], r["price_rate"], r["price_currency"]) for a, r in zip(leg_accounts, rows)],
        prev_hash=prev_hash,
    )
    values = {
        "book_id": book.id, "seq": seq, "date": date, "flag": flag, "payee": payee, "narration": narration, "meta": meta,
        "links": links, "tags": tags, "reverses_id": _reverses_id, "created_at": utcnow(), "created_by": created_by,
        "hash": digest(text), "prev_hash": prev_hash, "fund": fund, "case_id": case_id, "grant_id": grant_id,
    }
    return _insert(session, values, rows)


_INSERT_TXN = insert(JournalTransaction.__table__).returning(JournalTransaction.__table__.c.id)
_INSERT_POSTINGS = insert(Posting.__table__)


def _insert(session: Session, values: dict[str, Any], rows: list[dict[str, Any]]) -> JournalTransaction:
    """Write the entry and its postings with two Core INSERTs and hand back the entry as if loaded
    (its ``postings`` load on first access): the unit of work's bookkeeping for new objects was
    half the cost of a post (bench/README.md, "Ledger"). Nothing is pending afterwards, so nothing
    is written twice."""
    txn_id = session.execute(_INSERT_TXN, values).scalar_one()
    for row in rows:
        row["transaction_id"] = txn_id
    session.execute(_INSERT_POSTINGS, rows)
    txn = JournalTransaction(id=txn_id, **values)
    make_transient_to_detached(txn)  # loaded state; the unloaded ``postings`` are fetched when read
    session.add(txn)
    return txn


def reverse(session: Session, txn: JournalTransaction, date: Date, reason: str, *, created_by: int | None = None) -> JournalTransaction:
    """Post the mirror of ``txn`` on ``date`` (linked ``^reverses-<id>``, tagged ``#reversal``).

    The original stays. A transaction is reversed at most once, and a reversal is not reversed
    (post a new entry instead).
    """
    if txn.reverses_id is not None:
        raise LedgerError(_("This entry is itself a reversal; post a new entry instead."), "transaction")
    if session.scalar(select(JournalTransaction.id).where(JournalTransaction.reverses_id == txn.id)) is not None:
        raise LedgerError(_("Entry %(id)s is already reversed.", id=txn.id), "transaction")
    if date < txn.date:
        raise LedgerError(_("A reversal cannot be dated before the entry it reverses."), "date")
    if not reason or not reason.strip():
        raise LedgerError(_("Give the reason for the reversal."), "reason")
    book = session.get(Book, txn.book_id)
    legs = []
    for p in txn.postings:
        amount = abs(Decimal(p.amount_minor).scaleb(-digits(p.currency)))
        side = "credit" if p.amount_minor > 0 else "debit"
        price = Decimal(p.price_rate) if p.price_rate else None
        legs.append(Leg(p.account.name, amount, p.currency, side, price, p.price_currency))
    meta = {k: v for k, v in (txn.meta or {}).items() if k in ("case_id", "grant_id", "plugin", "fund")}
    meta["reason"] = reason.strip()
    return post(
        session, book, date, f"Reversal of entry {txn.id}: {txn.narration}", legs,
        payee=txn.payee, meta=meta, links=[*txn.links, f"reverses-{txn.id}"],
        tags=[*txn.tags, "reversal"], created_by=created_by, _reverses_id=txn.id,
    )


def close_period(session: Session, book: Book, through: Date, *, closed_by: int | None = None) -> ClosedPeriod:
    """Close ``book`` through ``through`` (inclusive); a closed period is never reopened."""
    session.scalar(select(Book).where(Book.id == book.id).with_for_update())
    current = session.scalar(select(func.max(ClosedPeriod.through)).where(ClosedPeriod.book_id == book.id))
    if current is not None and through <= current:
        raise LedgerError(_("The book is already closed through %(date)s.", date=current), "through")
    period = ClosedPeriod(book_id=book.id, through=through, closed_by=closed_by)
    session.add(period)
    session.flush()
    return period


def _dimensions(session: Session, org_id: int, meta: dict[str, Any], accounts: set[str]) -> tuple[str | None, int | None, int | None]:
    """Check ``fund``, ``case_id`` and ``grant_id`` in ``meta`` and return them (they are copied
    into indexed columns). A leg on a fund's income account makes the entry the fund's, and
    ``meta["fund"]`` is set to say so (the export shows it)."""
    for key in ("case_id", "grant_id"):
        if key in meta and (not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] <= 0):
            raise LedgerError(_("Metadata %(key)s must be a positive whole number.", key=key), "meta")
    case_id, grant_id = meta.get("case_id"), meta.get("grant_id")
    if case_id is not None and session.scalar(_CASE_OF_ORG, {"case_id": case_id, "org_id": org_id}) is None:
        raise LedgerError(_("Case %(id)s is not a case of this organisation.", id=case_id), "meta")
    named = meta.get("fund")
    if named is not None and not isinstance(named, str):
        raise LedgerError(_("Metadata fund must be the code of a fund."), "meta")
    income = [a for a in accounts if a.startswith("Income:")]
    if named is None and not income:
        return None, case_id, grant_id  # no fund named, and no leg on an income account that could be one's
    funds = session.execute(_FUNDS, {"org_id": org_id, "code": named, "accounts": income}).all()
    if named is not None and named not in {code for code, _account in funds}:
        raise LedgerError(_("There is no fund %(fund)s in this organisation.", fund=named), "meta")
    by_income = {code for code, account in funds if account in accounts}
    if len(by_income) > 1 or (named is not None and by_income - {named}):
        raise LedgerError(_("One entry can belong to one fund only: it names %(funds)s.", funds=", ".join(sorted(by_income | {named} - {None}))), "postings")
    fund = named or next(iter(by_income), None)
    if fund is not None:
        meta["fund"] = fund
    return fund, case_id, grant_id


def _check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if not isinstance(key, str) or not META_KEY.match(key) or key in ("db_id", "hash", "filename", "lineno"):
            raise LedgerError(_("%(key)s cannot be a metadata key.", key=repr(key)), "meta")
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise LedgerError(_("Metadata %(key)s must be text, an integer or a Decimal.", key=key), "meta")
        if isinstance(value, str) and CONTROL.search(value):
            raise LedgerError(_("Metadata %(key)s may not contain line breaks or control characters.", key=key), "meta")
        out[key] = str(value) if isinstance(value, Decimal) else value
    return out


def _fmt(minor: int, currency: str) -> str:
    d = MINOR_DIGITS.get(currency, 0)
    return str(Decimal(minor).scaleb(-d)) if d else str(minor)
