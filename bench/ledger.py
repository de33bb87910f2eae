"""Ledger benchmarks (issue 3): posting throughput, the trial balance at 1,000,000 transactions, the
beancount export of 100,000 transactions. Prints figures; asserts nothing about time.

Three SQLite files under ``bench/`` (git-ignored), each holding one organisation with one book:

- ``ledger-<N>.db``: the book of the trial balance, ``--transactions N`` transactions (default
  1,000,000), bulk-loaded with SQLAlchemy Core executemany. The rows are what ``ledger.api.post``
  would have written: signed amounts, weights, ``seq`` 1..N and the hash chain of
  ``ledger.chain`` (``--verify`` runs ``ledger.check.verify_book`` and beancount's loader on them).
  It is reused when it already holds N transactions.
- ``ledger-<E>.db``: the book the export reads, ``--export-transactions E`` (default
  ``min(100,000, N)``; the same file as above when E = N).
- ``ledger-post.db``: made afresh on every run; ``post`` writes into it through the public API.

    taskset -c 0 .venv/bin/python -m bench.ledger                      # full size (the first run fills: ~90 s)
    .venv/bin/python -m bench.ledger --transactions 2000 --verify      # smoke run, seconds
    taskset -c 0 .venv/bin/python -m bench.ledger --only trial_balance --rounds 10
"""

from __future__ import annotations

import io
import os
import platform
import random
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import sqlalchemy
from sqlalchemy import Connection, Engine, event, func, insert, select, text
from sqlalchemy.orm import Session

from core.context import Context
from core.db import make_engine, make_session_factory
from core.migrate import upgrade
from core.plugins import get_plugin_manager
from core.services.admin import create_organisation
from ledger.api import Book, JournalTransaction, Leg, Posting, credit, debit, post
from ledger.chain import GENESIS, canonical_text, digest
from ledger.money import digits, to_minor

HERE = Path(__file__).resolve().parent
START = date(2016, 11, 1)  # accounts open; the bulk data runs from here ...
END = date(2026, 10, 31)  # ... to here, and ``post`` writes in November 2026
BATCH = 20_000  # transactions per executemany (about 2.9 postings each)
PER_COMMIT = 200_000
SCENARIOS = ("post", "trial_balance", "export")
FORMAT = "bench.ledger 2"  # the book's ``reference``: a database filled by another version is rebuilt
CASES = 2_000  # cases (with their persons) of the bench organisation, for metadata case_id
#: the work in progress on funds: entries carry fund/case_id/grant_id columns copied from metadata
HAS_FUNDS = hasattr(JournalTransaction, "fund")

FUNDS = ["General", "Reintegration", "Family", "Vocational", "Emergency"]
AREAS = ["Housing", "Food", "Transport", "Health", "Documents", "Tools", "Training", "Stipends",
         "Family-Visits", "Microbusiness", "Salaries", "Office"]
PLUGINS = ["grants", "microbusiness", "training", "family_visits"]
ACCOUNTS: list[tuple[str, str]] = [
    ("Assets:Bank:USD", "USD"),
    ("Assets:Bank:KHR", "KHR"),
    ("Assets:Cash:USD", "USD"),
    ("Assets:Cash:KHR", "KHR"),
    ("Assets:Receivable:Donors", "USD"),
    ("Liabilities:Payable", "USD,KHR"),
    ("Equity:Opening-Balances", "USD,KHR"),
    *[(f"Income:Donations:{f}", "USD,KHR") for f in FUNDS],
    *[(f"Expenses:Programme:{a}", "USD,KHR") for a in AREAS],
    ("Expenses:Bank-Fees", "USD,KHR"),
]


# --- the transactions ---------------------------------------------------------------------------


@dataclass
class Spec:
    """One transaction as a module would post it."""

    date: date
    narration: str
    legs: list[Leg]
    meta: dict[str, Any] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    payee: str | None = None


def usd(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def make_spec(rng: random.Random, day: date, case_ids: list[int], grant_ids: list[int] | None = None) -> Spec:
    """2-4 legs, USD and KHR, some cross-currency legs at a price; metadata as modules give it."""
    u = rng.random()
    meta: dict[str, Any] = {"plugin": rng.choice(PLUGINS)}
    links: list[str] = []
    if rng.random() < 0.5:
        meta["case_id"] = rng.choice(case_ids)
    if rng.random() < 0.2 and (grant_ids is None or grant_ids):
        meta["grant_id"] = g = rng.randint(1, 5_000) if grant_ids is None else rng.choice(grant_ids)
        links.append(f"grant-{g}")
    fund, area = rng.choice(FUNDS), rng.choice(AREAS)
    expense = f"Expenses:Programme:{area}"
    rate = Decimal(rng.randint(4000, 4150))  # riel per dollar
    if u < 0.20:  # a donation in dollars
        cents = rng.randint(1_000, 500_000)
        legs = [debit("Assets:Bank:USD", usd(cents), "USD"), credit(f"Income:Donations:{fund}", usd(cents), "USD")]
        return Spec(day, f"Donation to the {fund} fund", legs, meta, links, payee=f"Donor {rng.randint(1, 900)}")
    if u < 0.30:  # a gift in riel
        riel = Decimal(rng.randint(100, 20_000) * 100)
        legs = [debit("Assets:Cash:KHR", riel, "KHR"), credit(f"Income:Donations:{fund}", riel, "KHR")]
        return Spec(day, f"Gift in riel to the {fund} fund", legs, meta, links)
    if u < 0.55:  # spending in dollars, sometimes with a bank fee (3 legs)
        cents = rng.randint(500, 150_000)
        legs = [debit(expense, usd(cents), "USD")]
        if rng.random() < 0.4:
            fee = rng.randint(50, 300)
            legs.append(debit("Expenses:Bank-Fees", usd(fee), "USD"))
            cents += fee
        legs.append(credit("Assets:Bank:USD", usd(cents), "USD"))
        return Spec(day, f"{area} for case", legs, meta, links)
    if u < 0.70:  # spending in riel
        riel = Decimal(rng.randint(50, 5_000) * 100)
        legs = [debit(expense, riel, "KHR"), credit("Assets:Cash:KHR", riel, "KHR")]
        return Spec(day, f"{area} paid in cash", legs, meta, links)
    if u < 0.80:  # split spending: two areas and a fee (4 legs)
        a, b, fee = rng.randint(500, 50_000), rng.randint(500, 50_000), rng.randint(50, 300)
        other = f"Expenses:Programme:{rng.choice(AREAS)}"
        legs = [debit(expense, usd(a), "USD"), debit(other, usd(b), "USD"), debit("Expenses:Bank-Fees", usd(fee), "USD"),
                credit("Assets:Bank:USD", usd(a + b + fee), "USD")]
        return Spec(day, f"{area} and more, one payment", legs, meta, links)
    if u < 0.90:  # changing dollars into riel at a price (2 legs, or 3 with a fee in dollars)
        dollars = rng.randint(100, 5_000)
        legs = [debit("Assets:Bank:KHR", Decimal(dollars) * rate, "KHR"),
                credit("Assets:Bank:USD", Decimal(dollars), "USD", price=rate, price_currency="KHR")]
        if rng.random() < 0.5:
            legs += [debit("Expenses:Bank-Fees", Decimal("1.00"), "USD"), credit("Assets:Bank:USD", Decimal("1.00"), "USD")]
        return Spec(day, "Change dollars into riel", legs, meta, links)
    # spending in riel paid from the dollar account at a price
    dollars = rng.randint(5, 800)
    legs = [debit(expense, Decimal(dollars) * rate, "KHR"),
            credit("Assets:Bank:USD", Decimal(dollars), "USD", price=rate, price_currency="KHR")]
    return Spec(day, f"{area} in riel, paid in dollars", legs, meta, links)


def posting_values(leg: Leg) -> tuple[int, str, str | None, str | None, int, str]:
    """``(amount_minor, currency, price_rate, price_currency, weight_minor, weight_currency)`` as
    ``ledger.posting.post`` computes them."""
    minor = to_minor(leg.amount, leg.currency)
    signed = minor if leg.side == "debit" else -minor
    if leg.price is None:
        return signed, leg.currency, None, None, signed, leg.currency
    exact = (leg.amount * leg.price).scaleb(digits(leg.price_currency))
    assert exact == exact.to_integral_value(), leg
    weight = int(exact) if leg.side == "debit" else -int(exact)
    return signed, leg.currency, format(leg.price, "f"), leg.price_currency, weight, leg.price_currency


# --- filling a database ---------------------------------------------------------------------------


def _bulk_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-1000000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    return Path(url.split("///", 1)[1]) if url.startswith("sqlite") else None


def _remove(path: Path) -> None:
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        f.unlink(missing_ok=True)


def book_of(engine: Engine) -> tuple[int, int] | None:
    """``(book id, transactions)`` of the bench organisation's book, if the database has one."""
    with engine.connect() as conn:
        if not sqlalchemy.inspect(conn).has_table("ledger_books"):
            return None
        book_id, reference = conn.execute(select(Book.id, Book.reference).order_by(Book.id).limit(1)).first() or (None, None)
        if book_id is None:
            return None
        if reference != FORMAT:
            return book_id, -1
        n = conn.execute(select(func.count()).select_from(JournalTransaction).where(JournalTransaction.book_id == book_id)).scalar()
        return book_id, n or 0


def ensure_database(url: str, n: int, seed: int, fresh: bool = False) -> tuple[Engine, int]:
    """An engine on a database whose first book holds ``n`` transactions (filled if need be)."""
    path = sqlite_path(url)
    if path is not None and path.exists():
        engine = make_engine(url)
        found = book_of(engine)
        if not fresh and found is not None and found[1] == n:
            return engine, found[0]
        engine.dispose()
        _remove(path)
    elif path is None:
        engine = make_engine(url)
        found = book_of(engine)
        if found is not None and found[1] == n and not fresh:
            return engine, found[0]
        if found is not None:
            raise click.ClickException(f"{url} holds another ledger: give an empty database")
        engine.dispose()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    upgrade(url, get_plugin_manager())
    engine = make_engine(url)
    with Session(engine) as session:
        org = create_organisation(session, f"ledger-bench-{n}", "Ledger Bench", [])
        book = Book(org_id=org.id, kind="general", name="General", reference=FORMAT)
        session.add(book)
        session.flush()
        book_id, org_id = book.id, org.id
        session.commit()
    bulk = make_engine(url)
    if bulk.dialect.name == "sqlite":
        event.listen(bulk, "connect", _bulk_pragmas)
    try:
        fill(bulk, org_id, book_id, n, seed)
    finally:
        bulk.dispose()
    if n:
        click.echo(f"  filled {url} with {n:,} transactions in {time.perf_counter() - started:.1f} s")
    return engine, book_id


def case_ids(engine: Engine, book_id: int) -> list[int]:
    from core.models import Case

    with engine.connect() as conn:
        org_id = conn.execute(select(Book.org_id).where(Book.id == book_id)).scalar_one()
        return list(conn.execute(select(Case.id).where(Case.org_id == org_id).order_by(Case.id)).scalars())


def open_bench_book(conn: Connection, org_id: int, book_id: int, rng: random.Random, start: date = START, end: date = END,
                    extra_accounts: tuple[tuple[str, str], ...] = ()) -> tuple[dict[str, int], dict[str, str]]:
    """The bench chart of accounts (``ACCOUNTS`` and ``extra_accounts``) opened on ``start``, a fund
    per donations account (if the ledger has funds) and a monthly USD/KHR price from ``start`` to
    ``end``. Returns the account ids by name and the fund codes by income account."""
    from ledger.models import Account, Price

    conn.execute(insert(Account.__table__), [
        {"book_id": book_id, "name": name, "currencies": cur, "opened_on": start} for name, cur in (*ACCOUNTS, *extra_accounts)
    ])
    funds: dict[str, str] = {}
    if HAS_FUNDS:  # a fund per donations account, so post() files entries under it
        from ledger.models import Fund

        funds = {f"Income:Donations:{f}": f.lower() for f in FUNDS}
        conn.execute(insert(Fund.__table__), [
            {"org_id": org_id, "code": code, "name": f"{code.title()} fund", "restricted": code != "general",
             "income_account": account, "opened_on": start} for account, code in funds.items()
        ])
    names = {name: i for i, name in conn.execute(select(Account.id, Account.name).where(Account.book_id == book_id)).all()}
    prices, day = [], start
    while day <= end:
        prices.append({"org_id": org_id, "date": day, "base": "USD", "quote": "KHR", "rate": str(rng.randint(4000, 4150))})
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    conn.execute(insert(Price.__table__), prices)
    return names, funds


def fill_transactions(engine: Engine, book_id: int, n: int, rng: random.Random, cases: list[int], names: dict[str, int],
                      funds: dict[str, str], start: date = START, end: date = END, grants: list[int] | None = None,
                      label: str = "transactions") -> None:
    """``n`` transactions of ``make_spec`` spread evenly from ``start`` to ``end``, written as rows
    with what ``ledger.api.post`` would write: seq 1..n, signed minor amounts, weights, the
    fund/case_id/grant_id columns and the book's hash chain (``ledger.chain``) from ``GENESIS``.
    ``grants``: the ids metadata ``grant_id`` is drawn from (default 1..5,000)."""
    with engine.connect() as conn:
        first_txn = (conn.execute(select(func.max(JournalTransaction.id))).scalar() or 0) + 1
        first_posting = (conn.execute(select(func.max(Posting.id))).scalar() or 0) + 1
    days = (end - start).days + 1
    created = datetime(2026, 11, 1, tzinfo=UTC)
    prev, tid, pid = GENESIS, first_txn, first_posting
    t_table, p_table = JournalTransaction.__table__, Posting.__table__
    with click.progressbar(length=n, label=f"{label:>14}", show_pos=True, width=30, hidden=not n) as bar:
        for commit_start in range(0, n, PER_COMMIT):
            with engine.begin() as conn:
                for batch_start in range(commit_start, min(n, commit_start + PER_COMMIT), BATCH):
                    txns, postings = [], []
                    for i in range(batch_start, min(n, batch_start + BATCH)):
                        seq = i + 1
                        spec = make_spec(rng, start + timedelta(days=i * days // n), cases, grants)
                        values = [posting_values(leg) for leg in spec.legs]
                        fund = next((funds[leg.account] for leg in spec.legs if leg.account in funds), None)
                        if fund is not None:
                            spec.meta["fund"] = fund
                        canonical = canonical_text(
                            book_id=book_id, seq=seq, date=spec.date.isoformat(), flag="*", payee=spec.payee,
                            narration=spec.narration, meta=spec.meta, links=spec.links, tags=[], reverses_id=None,
                            created_by=None, postings=[(leg.account, v[0], v[1], v[2], v[3]) for leg, v in zip(spec.legs, values)],
                            prev_hash=prev,
                        )
                        h = digest(canonical)
                        txns.append({
                            "id": tid, "book_id": book_id, "seq": seq, "date": spec.date, "flag": "*", "payee": spec.payee,
                            "narration": spec.narration, "meta": spec.meta, "links": spec.links, "tags": [],
                            "reverses_id": None, "created_at": created, "created_by": None, "hash": h, "prev_hash": prev,
                        })
                        if HAS_FUNDS:
                            txns[-1].update(fund=fund, case_id=spec.meta.get("case_id"), grant_id=spec.meta.get("grant_id"))
                        for leg, (amount, cur, rate, rate_cur, weight, weight_cur) in zip(spec.legs, values):
                            postings.append({
                                "id": pid, "transaction_id": tid, "account_id": names[leg.account], "amount_minor": amount,
                                "currency": cur, "price_rate": rate, "price_currency": rate_cur, "weight_minor": weight,
                                "weight_currency": weight_cur, "date": spec.date,
                            })
                            pid += 1
                        prev, tid = h, tid + 1
                    conn.execute(insert(t_table), txns)
                    conn.execute(insert(p_table), postings)
                    bar.update(len(txns))


LEDGER_TABLES = ("ledger_books", "ledger_transactions", "ledger_postings", "ledger_accounts", "ledger_prices", "ledger_funds")


def finish_fill(engine: Engine) -> None:
    """After a bulk load: SQLite's WAL checkpointed; PostgreSQL's sequences moved past the ids written."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.commit()
            for table in LEDGER_TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 1))"))
            conn.commit()


def fill(engine: Engine, org_id: int, book_id: int, n: int, seed: int) -> None:
    """Accounts, a monthly USD/KHR price and ``n`` transactions with their hash chain, as rows."""
    from core.models import Case, Person

    rng = random.Random(seed)
    with engine.begin() as conn:
        person_ids = []
        for k in range(CASES):  # the cases entries name in metadata case_id (post() checks they exist)
            person_ids.append(conn.execute(insert(Person.__table__).values(org_id=org_id, name=f"Participant {k + 1}")).inserted_primary_key[0])
        conn.execute(insert(Case.__table__), [{"org_id": org_id, "person_id": p, "opened_on": START} for p in person_ids])
        names, funds = open_bench_book(conn, org_id, book_id, rng)
    fill_transactions(engine, book_id, n, rng, case_ids(engine, book_id), names, funds)
    finish_fill(engine)


def verify(engine: Engine, book_id: int, check_beancount: bool) -> None:
    """The bulk rows are sound: the chain holds, the weights sum to zero, beancount loads the export."""
    from ledger.check import load_own_text, verify_book
    from ledger.export import book_text
    from ledger.reports import trial_balance

    with Session(engine) as session:
        book = session.get(Book, book_id)
        started = time.perf_counter()
        broken = verify_book(session, book)
        click.echo(f"  verify_book: {'chain intact' if broken is None else broken} ({time.perf_counter() - started:.1f} s)")
        click.echo(f"  trial balance (weights per currency): {trial_balance(session, book)}")
        if check_beancount:
            started = time.perf_counter()
            _entries, errors, _options = load_own_text(book_text(session, book))
            click.echo(f"  beancount loader on the export: {len(errors)} errors ({time.perf_counter() - started:.1f} s)")
            for e in errors[:5]:
                click.echo(f"    {e.message}")


# --- measuring --------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.2f}"


def timed(fn, rounds: int) -> tuple[list[float], list[float], Any]:
    walls, cpus, result = [], [], None
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus, result


def line(name: str, walls: list[float], cpus: list[float]) -> str:
    return (f"  {name:<44} n={len(walls):<5} best {ms(min(walls))}  median {ms(statistics.median(walls))}  "
            f"p95 {ms(percentile(walls, 95))} ms   CPU median {ms(statistics.median(cpus))} ms")


def bench_post(url: str, n: int, batches: list[int], seed: int) -> None:
    """``ledger.api.post`` through a session per batch, committed per batch, on the app's engine
    (WAL, synchronous=NORMAL, foreign keys on)."""
    click.echo(f"\n[post] {n:,} transactions per run through ledger.api.post, into {url}")
    engine, book_id = ensure_database(url, 0, seed, fresh=True)
    factory = make_session_factory(engine)
    rng = random.Random(seed + 7)
    cases = case_ids(engine, book_id)
    try:
        for batch in batches:
            days = [END + timedelta(days=1 + i * 29 // n) for i in range(n)]
            specs = [make_spec(rng, d, cases) for d in days]
            warm = [make_spec(rng, END + timedelta(days=1), cases) for _ in range(50)]
            with factory() as session:  # warm-up: statement caches, connection pool
                book = session.get(Book, book_id)
                for s in warm:
                    post(session, book, s.date, s.narration, s.legs, payee=s.payee, meta=s.meta, links=s.links)
                session.commit()
            walls: list[float] = []
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for start in range(0, n, batch):
                t0 = time.perf_counter()
                with factory() as session:  # what a request does: a session, load the book, post, commit
                    book = session.get(Book, book_id)
                    for s in specs[start : start + batch]:
                        post(session, book, s.date, s.narration, s.legs, payee=s.payee, meta=s.meta, links=s.links)
                    session.commit()
                walls.append(time.perf_counter() - t0)
            total, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            legs = sum(len(s.legs) for s in specs)
            click.echo(
                f"  commit every {batch:<4} {n / total:>8,.0f} transactions/s ({legs / n:.2f} legs each; CPU {n / cpu:,.0f}/s)   "
                f"per commit: median {ms(statistics.median(walls))} p95 {ms(percentile(walls, 95))} max {ms(max(walls))} ms"
            )
    finally:
        engine.dispose()


def bench_trial_balance(engine: Engine, book_id: int, rounds: int) -> None:
    """What the audit page computes (``ledger.audit.trial_balance_of``) against a bare GROUP BY."""
    from ledger.audit import trial_balance_of
    from ledger.reports import balances, trial_balance

    factory = make_session_factory(engine)
    with factory() as session:
        n = session.scalar(select(func.count()).select_from(JournalTransaction).where(JournalTransaction.book_id == book_id))
        p = session.scalar(select(func.count()).select_from(Posting))
    click.echo(f"\n[trial_balance] book of {n:,} transactions, {p:,} postings; {rounds} rounds each, after 1 warm-up")
    on = END

    def page():
        with factory() as session:  # a request: a fresh session
            ctx = Context(session, None, None)  # type: ignore[arg-type]  # trial_balance_of reads ctx.session only
            return trial_balance_of(ctx, session.get(Book, book_id), on)

    def part(fn):
        def run():
            with factory() as session:
                return fn(session, session.get(Book, book_id), on)
        return run

    bare_sql = "SELECT account_id, currency, sum(amount_minor) FROM ledger_postings GROUP BY account_id, currency"

    def bare():
        with engine.connect() as conn:
            return conn.exec_driver_sql(bare_sql).fetchall()

    results = {}
    for name, fn in (("trial_balance_of (the audit page)", page), ("  of which reports.balances", part(balances)),
                     ("  of which reports.trial_balance", part(trial_balance)), ("bare GROUP BY (account_id, currency)", bare)):
        fn()
        walls, cpus, value = timed(fn, rounds)
        results[name] = (walls, value)
        click.echo(line(name, walls, cpus))
    tb = results["trial_balance_of (the audit page)"][1]
    ratio = statistics.median(results["trial_balance_of (the audit page)"][0]) / statistics.median(results["bare GROUP BY (account_id, currency)"][0])
    click.echo(f"  ratio audit page / bare GROUP BY (medians): {ratio:.2f}x   (target: < 0.5 s and within 3x)")
    click.echo(f"  rows on the page: {len(tb.rows)}; totals of the weights: {dict(tb.totals)}")


def bench_export(engine: Engine, book_id: int, rounds: int) -> None:
    """``ledger.export.book_text`` against beancount's printer on the already-built entries."""
    from beancount.parser import printer

    from ledger.export import book_entries, book_text

    factory = make_session_factory(engine)
    with factory() as session:
        n = session.scalar(select(func.count()).select_from(JournalTransaction).where(JournalTransaction.book_id == book_id))
    click.echo(f"\n[export] book of {n:,} transactions; {rounds} rounds each, after 1 warm-up")

    def export_text():
        with factory() as session:
            return book_text(session, session.get(Book, book_id))

    def entries():
        with factory() as session:
            return book_entries(session, session.get(Book, book_id))

    built = entries()

    def print_only():
        out = io.StringIO()
        printer.print_entries(built, file=out)
        return out.getvalue()

    results = {}
    for name, fn in (("ledger.export.book_text", export_text), ("  of which book_entries (read + build)", entries),
                     ("beancount printer.print_entries alone", print_only)):
        fn()
        walls, cpus, value = timed(fn, rounds)
        results[name] = (walls, value, cpus)
        click.echo(line(name, walls, cpus))
    text_len = len(results["ledger.export.book_text"][1])
    mine, printer_alone = results["ledger.export.book_text"], results["beancount printer.print_entries alone"]
    ratio = statistics.median(mine[0]) / statistics.median(printer_alone[0])
    cpu_ratio = statistics.median(mine[2]) / statistics.median(printer_alone[2])
    click.echo(f"  ratio book_text / printer (medians): {ratio:.2f}x, CPU {cpu_ratio:.2f}x   (target: within 1.5x); {len(built):,} entries, {text_len / 1e6:.1f} MB of text")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ("?" where there is none)."""
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def machine() -> str:
    model = cpu_model()
    import beancount

    return (f"CPU {model} ({os.cpu_count()} CPUs, allowed {sorted(os.sched_getaffinity(0))}); Python {platform.python_version()}; "
            f"SQLite {sqlite3.sqlite_version}; SQLAlchemy {sqlalchemy.__version__}; beancount {beancount.__version__}; "
            f"load average {os.getloadavg()[0]:.2f}")


@click.command()
@click.option("--transactions", "n", default=1_000_000, show_default=True, type=click.IntRange(1), help="Transactions in the trial-balance book.")
@click.option("--export-transactions", "n_export", type=click.IntRange(1), help="Transactions in the exported book [default: min(100,000, --transactions)].")
@click.option("--post-transactions", "n_post", type=click.IntRange(1), help="Transactions posted per commit mode [default: min(10,000, --transactions)].")
@click.option("--batch", "batches", multiple=True, type=click.IntRange(1), help="Commit every N posts (repeatable) [default: 100 and 1].")
@click.option("--database-url", help="The trial-balance database [default: sqlite:///bench/ledger-<N>.db].")
@click.option("--export-database-url", help="The exported book's database [default: sqlite:///bench/ledger-<E>.db].")
@click.option("--post-database-url", default=f"sqlite:///{HERE / 'ledger-post.db'}", show_default="sqlite:///bench/ledger-post.db", help="Made afresh for each run (an empty database if not SQLite).")
@click.option("--only", multiple=True, type=click.Choice(SCENARIOS), help="Run only these (repeatable).")
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(1), help="Timed rounds of trial_balance and export.")
@click.option("--verify", "do_verify", is_flag=True, help="Check the bulk-loaded books: verify_book, weights, beancount loader.")
@click.option("--cpu", type=int, help="Pin to this CPU (like taskset -c N).")
@click.option("--seed", default=3, show_default=True, type=int)
def main(n: int, n_export: int | None, n_post: int | None, batches: tuple[int, ...], database_url: str | None, export_database_url: str | None,
         post_database_url: str, only: tuple[str, ...], rounds: int, do_verify: bool, cpu: int | None, seed: int) -> None:
    """Time posting, the trial balance and the export of the ledger."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    n_export = n_export or min(100_000, n)
    n_post = n_post or min(10_000, n)
    database_url = database_url or f"sqlite:///{HERE / f'ledger-{n}.db'}"
    export_database_url = export_database_url or f"sqlite:///{HERE / f'ledger-{n_export}.db'}"
    chosen = only or SCENARIOS
    click.echo(machine())
    if "trial_balance" in chosen:
        engine, book_id = ensure_database(database_url, n, seed)
        try:
            if do_verify:
                verify(engine, book_id, check_beancount=n <= 200_000)
            bench_trial_balance(engine, book_id, rounds)
        finally:
            engine.dispose()
    if "export" in chosen:
        engine, book_id = ensure_database(export_database_url, n_export, seed)
        try:
            if do_verify and export_database_url != database_url:
                verify(engine, book_id, check_beancount=True)
            bench_export(engine, book_id, rounds)
        finally:
            engine.dispose()
    if "post" in chosen:
        bench_post(post_database_url, n_post, list(batches or (100, 1)), seed)
    click.echo(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
