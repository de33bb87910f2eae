"""Export a book as beancount text, built with ``beancount.core.data`` and printed with
``beancount.parser.printer`` (one file per book, optionally per fiscal year)."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from pathlib import Path

from beancount.core import amount, data
from beancount.parser import printer
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Organisation
from ledger.models import Account, Book, JournalTransaction, Posting, Price
from ledger.money import from_minor

OPENING = "Equity:Opening-Balances"


@dataclass(frozen=True)
class ExportedBook:
    book: Book
    filename: str
    text: str


def book_entries(session: Session, book: Book, year: int | None = None) -> list[data.Directive]:
    """The beancount directives of ``book`` (of one calendar year, with the balances brought
    forward from earlier years as an opening entry, when ``year`` is given)."""
    accounts = list(session.scalars(select(Account).where(Account.book_id == book.id).order_by(Account.id)))
    names = {a.id: a.name for a in accounts}
    query = select(JournalTransaction).where(JournalTransaction.book_id == book.id)
    if year is not None:
        query = query.where(JournalTransaction.date >= Date(year, 1, 1), JournalTransaction.date <= Date(year, 12, 31))
    txns = list(session.scalars(query.order_by(JournalTransaction.date, JournalTransaction.seq)))
    prices = list(session.scalars(select(Price).where(Price.org_id == book.org_id).order_by(Price.date, Price.id)))
    if year is not None:
        prices = [p for p in prices if p.date.year == year]

    entries: list[data.Directive] = []
    currencies: set[str] = set()
    first = min([a.opened_on for a in accounts] + [p.date for p in prices], default=Date.today())
    for a in accounts:
        currencies.update(a.currency_list)
        entries.append(data.Open(_meta(), a.opened_on, a.name, a.currency_list, None))
        if a.closed_on is not None and (year is None or a.closed_on.year <= year):
            entries.append(data.Close(_meta(), a.closed_on, a.name))
    for p in prices:
        currencies.update((p.base, p.quote))
        entries.append(data.Price(_meta(), p.date, p.base, amount.Amount(Decimal(p.rate), p.quote)))

    if year is not None:
        entries.extend(_brought_forward(session, book, year, names, accounts))
    for t in txns:
        entries.append(_transaction(t, names))
    for currency in sorted(currencies):
        entries.append(data.Commodity(_meta(), first, currency))
    entries.sort(key=data.entry_sortkey)
    return entries


def _brought_forward(session: Session, book: Book, year: int, names: dict[int, str], accounts: list[Account]) -> list[data.Directive]:
    start = Date(year, 1, 1)
    rows = session.execute(
        select(Posting.account_id, Posting.currency, Posting.amount_minor)
        .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
        .where(JournalTransaction.book_id == book.id, JournalTransaction.date < start)
    )
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for account_id, currency, minor in rows:
        totals[(names[account_id], currency)] += minor
    totals = {k: v for k, v in totals.items() if v}
    if not totals:
        return []
    out: list[data.Directive] = []
    if OPENING not in names.values():
        out.append(data.Open(_meta(), min(a.opened_on for a in accounts), OPENING, None, None))
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


def _transaction(t: JournalTransaction, names: dict[int, str]) -> data.Transaction:
    meta = _meta()
    meta["db_id"] = Decimal(t.id)
    for key, value in sorted((t.meta or {}).items()):
        meta[key] = Decimal(value) if isinstance(value, int) else value
    meta["hash"] = t.hash
    postings = []
    for p in sorted(t.postings, key=lambda p: p.id):
        price = amount.Amount(Decimal(p.price_rate), p.price_currency) if p.price_rate else None
        postings.append(data.Posting(names[p.account_id], amount.Amount(from_minor(p.amount_minor, p.currency), p.currency), None, price, None, None))
    return data.Transaction(meta, t.date, t.flag, t.payee, t.narration, frozenset(t.tags or ()), frozenset(t.links or ()), postings)


def _meta() -> dict:
    return data.new_metadata("<homecoming>", 0)


def book_text(session: Session, book: Book, year: int | None = None) -> str:
    """The book as beancount text (options first, then the directives)."""
    org = session.get(Organisation, book.org_id)
    title = re.sub(r'["\\\n\r]', " ", f"{org.name if org else book.org_id}: {book.name}" + (f" {year}" if year else ""))
    out = io.StringIO()
    out.write(f'option "title" "{title}"\n')
    out.write('option "operating_currency" "USD"\n\n')
    printer.print_entries(book_entries(session, book, year), file=out)
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
