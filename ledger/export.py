"""Export a book as beancount text, built with ``beancount.core.data`` and printed with
``beancount.parser.printer`` (one file per book, optionally per fiscal year)."""

from __future__ import annotations

import gc
import heapq
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount.core import amount, data
from beancount.parser import printer
from sqlalchemy import Select, String, case, cast, select, type_coerce
from sqlalchemy.orm import Session

from core.models import Organisation
from ledger.documents import ExportedDocument, book_documents, contents, write_files
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
    # The postings in (date, transaction id, posting id) order, which is the order of the index
    # on (book_id, date, id): the database sorts nothing. Each transaction's postings make one
    # group, handed out in step with the transaction rows below.
    groups: list[list[data.Posting]] = []
    group_ids: list[int] = []
    new = tuple.__new__  # beancount's namedtuples, without their Python-level __new__ frames
    Amount, Posting_ = amount.Amount, data.Posting
    # Integers come cheaper from the driver than text, and fewer columns cheaper than more: the
    # account and the currency come as one number, account id * width + the currency's place in
    # MINOR_DIGITS (a currency not there gives none and fails below, as it always did), and the
    # price as one text, "rate currency".
    codes = sorted(MINOR_DIGITS)
    width = len(codes) + 1
    kinds = {
        account_id * width + k: (name, code, Decimal(1).scaleb(-MINOR_DIGITS[code]))  # 12345 * 0.01 is 12345 scaleb -2
        for account_id, name in names.items() for k, code in enumerate(codes)
    }
    kind = p.account_id * width + case({code: k for k, code in enumerate(codes)}, value=p.currency)
    price_text = case((p.price_currency.is_(None), p.price_rate), else_=p.price_rate + " " + p.price_currency)
    prices_of: dict[str, amount.Amount | None] = {}
    add_group, add_group_id = groups.append, group_ids.append
    current, leg = None, []
    for txn_id, kind_of, minor, price in _fetch(
        session,
        select(p.transaction_id, kind, p.amount_minor, price_text)
        .join(JournalTransaction.__table__, t.id == p.transaction_id)
        .where(*where)
        .order_by(t.date, t.id, p.id),
    ):
        name, currency, factor = kinds[kind_of]
        if price:
            rate_text, price = price, prices_of.get(price)
            if price is None:  # (not "or": an Amount's truth is a Python method)
                price = prices_of[rate_text] = _price(rate_text)
        else:
            price = None
        if txn_id != current:
            current, leg = txn_id, []
            add_group(leg)
            add_group_id(txn_id)
        leg.append(new(Posting_, (name, new(Amount, (Decimal(minor) * factor, currency)), None, price, None, None)))
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
    for currency in sorted(currencies):
        entries.append(data.Commodity(_meta(), first, currency))
    # The other directives, sorted, are merged in as the transactions (already in date order)
    # come: a directive goes before the transactions it sorts before or with (beancount's order),
    # that is before the first transaction dated on or after its "due" day.
    others = sorted(entries, key=data.entry_sortkey)
    dues = [_due(*data.entry_sortkey(e)) for e in others] + [Date.max]
    out: list[data.Directive] = []
    append, Transaction = out.append, data.Transaction
    i, n, due = 0, len(others), dues[0]
    filename = _meta()["filename"]
    # JSON as text, decoded once per distinct text (most repeat); the date as text too (SQLAlchemy's
    # SQLite date parsing is a regular expression per row), parsed once per day (PostgreSQL's
    # driver hands a date either way).
    metas: dict[Any, dict[str, Any]] = {}
    tag_sets: dict[Any, frozenset[str]] = {}
    link_sets: dict[Any, frozenset[str]] = {}
    j, m = 0, len(group_ids)
    next_id = group_ids[0] if m else None
    by_id: dict[int, list[data.Posting]] | None = None
    last = day = None
    for txn_id, day_text, meta_json, links_json, tags_json, flag, payee, narration, hash_ in _fetch(
        session,
        select(t.id, type_coerce(t.date, String), cast(t.meta, String), cast(t.links, String), cast(t.tags, String), t.flag, t.payee, t.narration, t.hash)
        .where(*where)
        .order_by(t.date, t.seq),
    ):
        if day_text != last:
            last, day = day_text, day_text if isinstance(day_text, Date) else Date.fromisoformat(day_text)
            if day >= due:
                while i < n and dues[i] <= day:
                    append(others[i])
                    i += 1
                due = dues[i]
        template = metas.get(meta_json)
        if template is None:
            meta = _transaction_meta(filename, txn_id, meta_json, hash_, metas)
        else:
            meta = template.copy()
            meta["db_id"] = Decimal(txn_id)
            meta["hash"] = hash_
        tags = tag_sets.get(tags_json)
        if tags is None:
            tags = tag_sets[tags_json] = _label_set(tags_json)
        links = link_sets.get(links_json)
        if links is None:
            links = link_sets[links_json] = _label_set(links_json)
        if txn_id == next_id:
            postings = groups[j]
            j += 1
            next_id = group_ids[j] if j < m else None
        else:  # the transaction's postings are not next (its seq and id orders differ): look them up
            if by_id is None:
                by_id = dict(zip(group_ids, groups))
            postings = by_id.get(txn_id) or []
        append(new(Transaction, (meta, day, flag, payee, narration, tags, links, postings)))
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


_SCAN = json.JSONDecoder().scan_once  # what json.loads comes to, without its Python frames
_EMPTY: frozenset[str] = frozenset()


def _decoded(value: Any, empty: Any) -> Any:
    """A JSON column read as text (or already decoded), decoded; an empty one as ``empty``."""
    if value is None or value in ("{}", "[]", ""):
        return empty
    return _SCAN(value, 0)[0] if isinstance(value, str) else value


def _transaction_meta(filename: str, txn_id: int, text: Any, hash_: str, templates: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """A transaction's beancount metadata from its ``meta`` column: ``db_id``, the column's keys
    in order (integers as ``Decimal``), ``hash``. It is kept in ``templates`` under the text
    (unless the column has a ``db_id`` of its own, which then stays): the next transaction with
    the same text takes a copy and sets its own ``db_id`` and ``hash``, which keep their places.
    (Nothing changes an entry while the book is built, so the copies are all alike.)"""
    values = _SCAN(text, 0)[0] if text.__class__ is str and text not in ("{}", "[]", "") else _decoded(text, {})
    meta: dict[str, Any] = {"filename": filename, "lineno": 0, "db_id": Decimal(txn_id)}
    for key, value in sorted(values.items()):
        meta[key] = Decimal(value) if isinstance(value, int) else value
    meta["hash"] = hash_
    if "db_id" not in values and isinstance(text, str):
        templates[text] = meta
    return meta


def _label_set(text: Any) -> frozenset[str]:
    """The ``tags`` or ``links`` column as a set."""
    labels = _decoded(text, ())
    return frozenset(labels) if labels else _EMPTY


def _price(text: str) -> amount.Amount | None:
    """A posting's price from "rate currency" (or "rate" alone, with no currency)."""
    rate, space, currency = text.partition(" ")
    return tuple.__new__(amount.Amount, (Decimal(rate), currency if space else None)) if rate else None


def _due(day: Date, order: int, lineno: int) -> Date:
    """The first transaction day before which a directive with this sort key is printed."""
    return day if (order, lineno) <= (0, 0) or day == Date.max else day + timedelta(days=1)


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


def book_text(session: Session, book: Book, year: int | None = None, documents: Sequence[ExportedDocument] = ()) -> str:
    """The book as beancount text (options first, then the directives).

    :param documents: the ``document`` directives to print among the entries, whose files are
        written beside the book (:func:`write_org`); a book downloaded alone has none.
    """
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
        entries = book_entries(session, book, year)
        if documents:
            entries = list(heapq.merge(entries, [d.directive for d in documents], key=data.entry_sortkey))
        printer.print_entries(entries, file=out)
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


def book_archive(session: Session, org: Organisation, book: Book, year: int | None = None) -> bytes:
    """A ZIP of the book's file and, in a folder beside it, its documents: what :func:`write_org`
    writes for one book, to download."""
    filename = book_filename(org.slug, book, year)
    documents = book_documents(session, book, filename.removesuffix(".beancount") + "-documents", year)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(filename, book_text(session, book, year, documents))
        for document, content in contents(session, documents):
            archive.writestr(document.path, content)
    return out.getvalue()


def write_org(session: Session, org: Organisation, out_dir: Path, year: int | None = None) -> list[Path]:
    """Write one ``.beancount`` file per book of ``org`` into ``out_dir``, and the documents of
    its entries into a folder beside it (``<file stem>-documents/``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for book in session.scalars(select(Book).where(Book.org_id == org.id).order_by(Book.id)):
        filename = book_filename(org.slug, book, year)
        documents = book_documents(session, book, filename.removesuffix(".beancount") + "-documents", year)
        path = out_dir / filename
        path.write_text(book_text(session, book, year, documents), encoding="utf-8")
        write_files(session, documents, out_dir)
        paths.append(path)
    return paths
