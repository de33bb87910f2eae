"""Export a book as beancount text, built with ``beancount.core.data`` and printed with
``beancount.parser.printer`` (one file per book, optionally per fiscal year)."""

from __future__ import annotations

import gc
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount.core import amount, data
from beancount.parser import printer
from sqlalchemy import Select, String, select, type_coerce
from sqlalchemy.orm import Session

from core.models import Organisation
from ledger.models import Account, Book, JournalTransaction, Posting, Price
from ledger.money import MINOR_DIGITS, from_minor

OPENING = "Equity:Opening-Balances"
#: where a per-year export brings earlier years' income less expenses (beancount's own name)
EARNINGS = "Equity:Earnings:Previous"


@dataclass(frozen=True)
class ExportedBook:
    book: Book
    filename: str
    text: str


def book_entries(session: Session, book: Book, year: int | None = None) -> list[data.Directive]:
    """The beancount directives of ``book`` (of one calendar year, with the balances brought
    forward from earlier years as an opening entry, when ``year`` is given).

    The journal is read as rows with two Core queries, not as ORM objects: at 100,000 entries,
    loading objects cost several times what beancount's printer takes (bench/README.md, "Ledger").
    """
    accounts = list(session.scalars(select(Account).where(Account.book_id == book.id).order_by(Account.id)))
    names = {a.id: a.name for a in accounts}
    t, p = JournalTransaction.__table__.c, Posting.__table__.c
    where = [t.book_id == book.id]
    if year is not None:
        where += [t.date >= Date(year, 1, 1), t.date <= Date(year, 12, 31)]
    legs: dict[int, list[data.Posting]] = defaultdict(list)
    units_of: dict[tuple[int, str], amount.Amount] = {}
    for txn_id, account_id, minor, currency, rate, rate_currency in _fetch(
        session,
        select(p.transaction_id, p.account_id, p.amount_minor, p.currency, p.price_rate, p.price_currency)
        .join(JournalTransaction.__table__, t.id == p.transaction_id)
        .where(*where)
        .order_by(p.transaction_id, p.id),
    ):
        units = units_of.get((minor, currency))
        if units is None:
            units = units_of[(minor, currency)] = amount.Amount(Decimal(minor).scaleb(-MINOR_DIGITS[currency]), currency)
        price = amount.Amount(Decimal(rate), rate_currency) if rate else None
        legs[txn_id].append(data.Posting(names[account_id], units, None, price, None, None))
    prices = list(session.scalars(select(Price).where(Price.org_id == book.org_id).order_by(Price.date, Price.id)))
    if year is not None:
        prices = [x for x in prices if x.date.year == year]

    entries: list[data.Directive] = []
    currencies: set[str] = set()
    first = min([a.opened_on for a in accounts] + [x.date for x in prices], default=Date.today())
    for a in accounts:
        currencies.update(a.currency_list)
        entries.append(data.Open(_meta(), a.opened_on, a.name, a.currency_list, None))
        if a.closed_on is not None and (year is None or a.closed_on.year <= year):
            entries.append(data.Close(_meta(), a.closed_on, a.name))
    for x in prices:
        currencies.update((x.base, x.quote))
        entries.append(data.Price(_meta(), x.date, x.base, amount.Amount(Decimal(x.rate), x.quote)))

    if year is not None:
        entries.extend(_brought_forward(session, book, year, names, accounts))
    # JSON as text, decoded only when not empty; the date as text too (SQLAlchemy's SQLite date
    # parsing is a regular expression per row; PostgreSQL's driver hands a date either way)
    raw = [type_coerce(c, String) for c in (t.date, t.meta, t.links, t.tags)]
    for currency in sorted(currencies):
        entries.append(data.Commodity(_meta(), first, currency))
    # The other directives, sorted, are merged in as the transactions (already in date order)
    # come: a directive goes before the transactions it sorts before or with (beancount's order).
    others = sorted(entries, key=data.entry_sortkey)
    keys = [data.entry_sortkey(e) for e in others]
    out: list[data.Directive] = []
    i, n = 0, len(others)
    empty: frozenset[str] = frozenset()
    filename = _meta()["filename"]
    for txn_id, day, meta_json, links_json, tags_json, flag, payee, narration, hash_ in _fetch(
        session, select(t.id, *raw, t.flag, t.payee, t.narration, t.hash).where(*where).order_by(t.date, t.seq)
    ):
        day = day if isinstance(day, Date) else Date.fromisoformat(day)
        while i < n and keys[i] <= (day, 0, 0):
            out.append(others[i])
            i += 1
        meta = {"filename": filename, "lineno": 0, "db_id": Decimal(txn_id)}
        for key, value in sorted(_json(meta_json, {}).items()):
            meta[key] = Decimal(value) if isinstance(value, int) else value
        meta["hash"] = hash_
        tags, links = _json(tags_json, ()), _json(links_json, ())
        out.append(data.Transaction(
            meta, day, flag, payee, narration, frozenset(tags) if tags else empty, frozenset(links) if links else empty, legs.get(txn_id, []),
        ))
    out.extend(others[i:])
    return out


def _fetch(session: Session, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of ``statement`` as the database driver returns them, in the session's
    transaction. SQLAlchemy's result rows cost as much again as SQLite's own fetch at 340,000
    rows (bench/README.md, "Ledger"); the caller copes with either driver's types (a date as
    text or a date, JSON as text or decoded). The statement's values are this module's own
    integers and dates, rendered inline."""
    connection = session.connection()
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


_DECODE = json.JSONDecoder().raw_decode  # what json.loads calls, without its two Python frames


def _json(value: Any, empty: Any) -> Any:
    """A JSON column read as text (SQLite) or already decoded (PostgreSQL's driver)."""
    if value is None or value in ("{}", "[]", ""):
        return empty
    return _DECODE(value)[0] if isinstance(value, str) else value


def _brought_forward(session: Session, book: Book, year: int, names: dict[int, str], accounts: list[Account]) -> list[data.Directive]:
    start = Date(year, 1, 1)
    rows = session.execute(
        select(Posting.account_id, Posting.currency, Posting.amount_minor)
        .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
        .where(JournalTransaction.book_id == book.id, JournalTransaction.date < start)
    )
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for account_id, currency, minor in rows:
        name = names[account_id]
        # Earlier years' income and expenses are closed into equity: a year starts at zero.
        if name.split(":", 1)[0] in ("Income", "Expenses"):
            name = EARNINGS
        totals[(name, currency)] += minor
    totals = {k: v for k, v in totals.items() if v}
    if not totals:
        return []
    out: list[data.Directive] = []
    first = min(a.opened_on for a in accounts)
    for equity in (OPENING, EARNINGS):
        if equity not in names.values() and (equity == OPENING or any(n == EARNINGS for n, _c in totals)):
            out.append(data.Open(_meta(), first, equity, None, None))
    postings = [data.Posting(name, amount.Amount(from_minor(v, c), c), None, None, None, None) for (name, c), v in sorted(totals.items())]
    per_currency: dict[str, int] = defaultdict(int)
    for (_, c), v in totals.items():
        per_currency[c] -= v
    postings += [
        data.Posting(OPENING, amount.Amount(from_minor(v, c), c), None, None, None, None)
        for c, v in sorted(per_currency.items()) if v
    ]
    out.append(data.Transaction(_meta(), start, "*", None, f"Balances brought forward to {year}", frozenset({"opening"}), frozenset(), postings))
    return out


def _meta() -> dict:
    return data.new_metadata("<homecoming>", 0)


def book_text(session: Session, book: Book, year: int | None = None) -> str:
    """The book as beancount text (options first, then the directives)."""
    org = session.get(Organisation, book.org_id)
    title = re.sub(r'["\\\n\r]', " ", f"{org.name if org else book.org_id}: {book.name}" + (f" {year}" if year else ""))
    out = io.StringIO()
    out.write(f'option "title" "{title}"\n')
    out.write('option "operating_currency" "USD"\n\n')
    # Building and printing make millions of small objects, none of them in a cycle: pausing the
    # cyclic collector keeps it from walking them again and again (about a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        printer.print_entries(book_entries(session, book, year), file=out)
    finally:
        if collecting:
            gc.enable()
    return out.getvalue()


def book_filename(org_slug: str, book: Book, year: int | None = None) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", book.name.lower()).strip("-") or "book"
    return f"{org_slug}-{book.id}-{stem}" + (f"-{year}" if year else "") + ".beancount"


def export_org(session: Session, org: Organisation, year: int | None = None) -> list[ExportedBook]:
    """Every book of ``org`` as beancount text."""
    books = session.scalars(select(Book).where(Book.org_id == org.id).order_by(Book.id))
    return [ExportedBook(b, book_filename(org.slug, b, year), book_text(session, b, year)) for b in books]


def write_org(session: Session, org: Organisation, out_dir: Path, year: int | None = None) -> list[Path]:
    """Write one ``.beancount`` file per book of ``org`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for exported in export_org(session, org, year):
        path = out_dir / exported.filename
        path.write_text(exported.text, encoding="utf-8")
        paths.append(path)
    return paths
