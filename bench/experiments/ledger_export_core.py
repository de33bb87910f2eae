"""Export of 100,000 transactions: read the journal as rows, not ORM objects.

Today ``ledger.export.book_entries`` loads every ``JournalTransaction`` (and, by ``selectin``, its
``Posting`` objects, each with its ``Account`` joined), which is most of the export's time.
``book_entries_rows`` below builds the same directives from two Core queries (the transactions
in date/seq order and their postings in id order) and the account names already at hand. The
script checks that ``book_text`` and the text printed from ``book_entries_rows`` are identical,
then times: ``book_text`` today, the same with ``book_entries_rows``, and beancount's printer
alone on the already-built entries. Nothing of the app is changed (monkeypatching within this
process only).

    .venv/bin/python -m bench.ledger --only export      # makes bench/ledger-100000.db
    taskset -c 0 .venv/bin/python -m bench.experiments.ledger_export_core [--rounds 3]
"""

from __future__ import annotations

import gc
import io
import json
import statistics
import time
from datetime import date as Date
from decimal import Decimal
from typing import Any

import click
from beancount.core import amount, data
from beancount.parser import printer
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from bench.ledger import HERE, machine
from core.db import make_engine, make_session_factory
from ledger import export
from ledger.models import Account, Book, JournalTransaction, Posting, Price
from ledger.money import MINOR_DIGITS

NEW_META = {"filename": "<homecoming>", "lineno": 0}


def book_entries_rows(session: Session, book: Book, year: int | None = None) -> list[data.Directive]:
    """The same directives as ``ledger.export.book_entries``, read with two Core queries."""
    accounts = list(session.scalars(select(Account).where(Account.book_id == book.id).order_by(Account.id)))
    names = {a.id: a.name for a in accounts}
    t = JournalTransaction.__table__.c
    p = Posting.__table__.c
    where = [t.book_id == book.id]
    if year is not None:
        where += [t.date >= Date(year, 1, 1), t.date <= Date(year, 12, 31)]
    raw = [type_coerce(c, String) for c in (t.meta, t.links, t.tags)]  # the JSON text: decoded below only when not empty
    txns = session.execute(
        select(t.id, t.date, t.flag, t.payee, t.narration, *raw, t.hash).where(*where).order_by(t.date, t.seq)
    ).all()
    legs: dict[int, list[data.Posting]] = {}
    amounts: dict[tuple[int, str], amount.Amount] = {}
    rows = session.execute(
        select(p.transaction_id, p.account_id, p.amount_minor, p.currency, p.price_rate, p.price_currency)
        .join(JournalTransaction.__table__, t.id == p.transaction_id)
        .where(*where)
        .order_by(p.transaction_id, p.id)
    ).all()
    for txn_id, account_id, minor, currency, rate, rate_currency in rows:
        units = amounts.get((minor, currency))
        if units is None:
            d = MINOR_DIGITS[currency]
            units = amounts[(minor, currency)] = amount.Amount(Decimal(minor).scaleb(-d) if d else Decimal(minor), currency)
        price = amount.Amount(Decimal(rate), rate_currency) if rate else None
        legs.setdefault(txn_id, []).append(data.Posting(names[account_id], units, None, price, None, None))

    prices = list(session.scalars(select(Price).where(Price.org_id == book.org_id).order_by(Price.date, Price.id)))
    if year is not None:
        prices = [x for x in prices if x.date.year == year]
    entries: list[data.Directive] = []
    currencies: set[str] = set()
    first = min([a.opened_on for a in accounts] + [x.date for x in prices], default=Date.today())
    for a in accounts:
        currencies.update(a.currency_list)
        entries.append(data.Open(dict(NEW_META), a.opened_on, a.name, a.currency_list, None))
        if a.closed_on is not None and (year is None or a.closed_on.year <= year):
            entries.append(data.Close(dict(NEW_META), a.closed_on, a.name))
    for x in prices:
        currencies.update((x.base, x.quote))
        entries.append(data.Price(dict(NEW_META), x.date, x.base, amount.Amount(Decimal(x.rate), x.quote)))
    if year is not None:
        entries.extend(export._brought_forward(session, book, year, names, accounts))
    empty: frozenset[str] = frozenset()
    for txn_id, day, flag, payee, narration, meta_in, links, tags, hash_ in txns:
        meta: dict[str, Any] = {"filename": "<homecoming>", "lineno": 0, "db_id": Decimal(txn_id)}
        links = json.loads(links) if links and links != "[]" else None
        tags = json.loads(tags) if tags and tags != "[]" else None
        for key, value in sorted((json.loads(meta_in) if meta_in and meta_in != "{}" else {}).items()):
            meta[key] = Decimal(value) if isinstance(value, int) else value
        meta["hash"] = hash_
        entries.append(data.Transaction(meta, day, flag, payee, narration, frozenset(tags) if tags else empty,
                                        frozenset(links) if links else empty, legs.get(txn_id, [])))
    for currency in sorted(currencies):
        entries.append(data.Commodity(dict(NEW_META), first, currency))
    entries.sort(key=data.entry_sortkey)
    return entries


@click.command()
@click.option("--database", default=str(HERE / "ledger-100000.db"), show_default=True)
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(1))
def main(database: str, rounds: int) -> None:
    click.echo(machine())
    engine = make_engine(f"sqlite:///{database}")
    factory = make_session_factory(engine)
    original = export.book_entries

    def text_today() -> str:
        export.book_entries = original
        with factory() as session:
            return export.book_text(session, session.get(Book, 1))

    def text_rows() -> str:
        export.book_entries = book_entries_rows
        try:
            with factory() as session:
                return export.book_text(session, session.get(Book, 1))
        finally:
            export.book_entries = original

    def text_rows_gc_paused() -> str:
        gc.disable()  # the export makes ~2 million objects: the cyclic collector would walk them again and again
        try:
            return text_rows()
        finally:
            gc.enable()

    def entries_rows() -> list:
        with factory() as session:
            return book_entries_rows(session, session.get(Book, 1))

    built = entries_rows()

    def print_only() -> str:
        out = io.StringIO()
        printer.print_entries(built, file=out)
        return out.getvalue()

    results = {}
    for name, fn in (("book_text today", text_today), ("book_text with book_entries_rows", text_rows),
                     ("  of which book_entries_rows", entries_rows),
                     ("book_text, rows, collector paused", text_rows_gc_paused), ("beancount printer alone", print_only)):
        fn()
        walls = []
        for _ in range(rounds):
            started = time.perf_counter()
            value = fn()
            walls.append(time.perf_counter() - started)
        results[name] = (statistics.median(walls), value)
        click.echo(f"  {name:<36} best {min(walls) * 1000:9.1f}  median {statistics.median(walls) * 1000:9.1f} ms")
    printed = results["beancount printer alone"][0]
    for name in ("book_text today", "book_text with book_entries_rows", "book_text, rows, collector paused"):
        click.echo(f"  {name} / printer: {results[name][0] / printed:.2f}x")
    same = results["book_text today"][1] == results["book_text with book_entries_rows"][1] == results["book_text, rows, collector paused"][1]
    click.echo(f"  identical text: {same} ({len(built):,} entries, {len(results['book_text today'][1]) / 1e6:.1f} MB)")
    engine.dispose()


if __name__ == "__main__":
    main()
