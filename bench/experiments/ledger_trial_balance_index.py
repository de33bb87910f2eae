"""Trial balance at 1,000,000 transactions: does a covering index (plus a query that reads it) bring
the audit page under 0.5 s? Not part of the app: it works on a *copy* of the bench database and
monkeypatches nothing in place; it times three things on the same copy, before and after the DDL:

- the bare ``SELECT account_id, currency, sum(amount_minor) FROM ledger_postings GROUP BY ...``;
- today's ``ledger.audit.trial_balance_of`` (``reports.balances`` + ``reports.trial_balance``, which
  start from the book's transactions and look up each one's postings);
- ``trial_balance_of_covering`` below: one scan of the book's accounts' postings in the covering
  index (no join to the transactions), less the postings dated after ``on`` (found through
  ``ix_ledger_transactions_book_date``; none when ``on`` is today). It checks that the result equals
  today's ``trial_balance_of`` exactly.

    .venv/bin/python -m bench.ledger --only trial_balance          # makes bench/ledger-1000000.db
    taskset -c 0 .venv/bin/python -m bench.experiments.ledger_trial_balance_index [--rounds 5] [--on 2021-06-30]

The DDL tried (SQLite and PostgreSQL alike):

    CREATE INDEX ix_ledger_postings_account_sums
        ON ledger_postings (account_id, currency, weight_currency, amount_minor, weight_minor);
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.ledger import END, HERE, machine, percentile
from core.context import Context
from core.db import make_engine, make_session_factory
from ledger.audit import TrialBalance, TrialRow, trial_balance_of
from ledger.models import Account, Book, JournalTransaction, Posting
from ledger.money import from_minor

DDL = (
    "CREATE INDEX IF NOT EXISTS ix_ledger_postings_account_sums "
    "ON ledger_postings (account_id, currency, weight_currency, amount_minor, weight_minor)"
)
DATED_DDL = (  # variant 2 (a schema change): the transaction's date copied onto each posting
    "ALTER TABLE ledger_postings ADD COLUMN date DATE",
    "DROP TRIGGER ledger_postings_no_update",  # the backfill, on this copy only
    "UPDATE ledger_postings SET date = (SELECT t.date FROM ledger_transactions t WHERE t.id = ledger_postings.transaction_id)",
    "CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings "
    "BEGIN SELECT RAISE(ABORT, 'ledger_postings is append-only: post a reversal instead'); END",
    "DROP INDEX ix_ledger_postings_account_sums",
    "CREATE INDEX ix_ledger_postings_account_dated_sums "
    "ON ledger_postings (account_id, currency, weight_currency, date, amount_minor, weight_minor)",
)
BARE = "SELECT account_id, currency, sum(amount_minor) FROM ledger_postings GROUP BY account_id, currency"


def sums(session: Session, book: Book, as_of: date | None) -> dict[tuple[int, str, str], tuple[int, int, int]]:
    """``{(account id, currency, weight currency): (legs, sum of amounts, sum of weights)}`` through
    ``as_of``: everything of the book's accounts, less what is dated after ``as_of``."""
    cols = (Posting.account_id, Posting.currency, Posting.weight_currency)
    aggregates = (func.count(), func.sum(Posting.amount_minor), func.sum(Posting.weight_minor))
    of_book = select(Account.id).where(Account.book_id == book.id)
    out = {
        (a, c, w): (n, amount, weight)
        for a, c, w, n, amount, weight in session.execute(select(*cols, *aggregates).where(Posting.account_id.in_(of_book)).group_by(*cols))
    }
    if as_of is not None:
        later = (
            select(*cols, *aggregates)
            .join(JournalTransaction, JournalTransaction.id == Posting.transaction_id)
            .where(JournalTransaction.book_id == book.id, JournalTransaction.date > as_of)
            .group_by(*cols)
        )
        for a, c, w, n, amount, weight in session.execute(later):
            n0, amount0, weight0 = out.pop((a, c, w))
            if n0 != n:
                out[(a, c, w)] = (n0 - n, amount0 - amount, weight0 - weight)
    return out


DATED_SUMS = text(
    "SELECT account_id, currency, weight_currency, count(*), sum(amount_minor), sum(weight_minor) FROM ledger_postings "
    "WHERE account_id IN (SELECT id FROM ledger_accounts WHERE book_id = :book) AND date <= :on "
    "GROUP BY account_id, currency, weight_currency"
)


def dated_sums(session: Session, book: Book, as_of: date) -> dict[tuple[int, str, str], tuple[int, int, int]]:
    """As :func:`sums`, from a ``date`` column copied onto the postings (variant 2: a schema change)."""
    return {(a, c, w): (n, amount, weight) for a, c, w, n, amount, weight in session.execute(DATED_SUMS, {"book": book.id, "on": as_of})}


def trial_balance_of_dated(ctx: Context, book: Book, on: date) -> TrialBalance:
    return trial_balance_of_covering(ctx, book, on, dated_sums)


def trial_balance_of_covering(ctx: Context, book: Book, on: date, read=sums) -> TrialBalance:  # noqa: ANN001
    """The same :class:`TrialBalance` as ``ledger.audit.trial_balance_of``, from :func:`sums`."""
    accounts = {a.id: a for a in ctx.session.scalars(select(Account).where(Account.book_id == book.id))}
    amounts: dict[tuple[str, str], int] = defaultdict(int)
    weights: dict[str, int] = defaultdict(int)
    for (account_id, currency, weight_currency), (_n, amount, weight) in read(ctx.session, book, on).items():
        amounts[(accounts[account_id].name, currency)] += int(amount)
        weights[weight_currency] += int(weight)
    by_name = {a.name: a for a in accounts.values()}
    rows = [TrialRow(by_name[name], c, from_minor(v, c)) for (name, c), v in sorted(amounts.items()) if v]
    per_currency: dict[str, int] = defaultdict(int)
    for (_name, c), v in amounts.items():
        per_currency[c] += v
    currencies = sorted(set(per_currency) | set(weights))
    return TrialBalance(
        rows=rows,
        currencies=currencies,
        sums={c: from_minor(per_currency.get(c, 0), c) for c in currencies},
        conversions={c: from_minor(weights.get(c, 0) - per_currency.get(c, 0), c) for c in currencies},
        totals={c: from_minor(weights.get(c, 0), c) for c in currencies},
    )


def plain(tb: TrialBalance) -> tuple:
    """What the page shows (the rows hold Account objects of different sessions)."""
    return ([(r.account.name, r.currency, r.balance) for r in tb.rows], tb.currencies, tb.sums, tb.conversions, tb.totals)


def copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    wal = Path(str(source) + "-wal")
    if wal.exists() and wal.stat().st_size:
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
    else:
        shutil.copyfile(source, target)


def time_all(url: str, on: date, rounds: int, label: str, dated: bool = False) -> dict[str, object]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    results: dict[str, object] = {}
    try:
        with engine.connect() as conn:
            click.echo(f"\n{label}")
            for name, sql in (("bare GROUP BY", BARE),):
                plan = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
                click.echo(f"  plan of the {name}: {plan}")
        book_id = 1

        def page(fn):  # noqa: ANN001, ANN202
            def run():  # noqa: ANN202
                with factory() as session:
                    return fn(Context(session, None, None), session.get(Book, book_id), on)  # type: ignore[arg-type]
            return run

        def bare():  # noqa: ANN202
            with engine.connect() as conn:
                return conn.exec_driver_sql(BARE).fetchall()

        variants = [("bare GROUP BY", bare), ("trial_balance_of (today)", page(trial_balance_of)),
                    ("trial_balance_of_covering", page(trial_balance_of_covering))]
        if dated:
            variants.append(("trial_balance_of_dated", page(trial_balance_of_dated)))
        for name, fn in variants:
            fn()
            walls = []
            for _ in range(rounds):
                t = time.perf_counter()
                value = fn()
                walls.append(time.perf_counter() - t)
            results[name] = (statistics.median(walls), value)
            click.echo(f"  {name:<28} best {min(walls) * 1000:8.1f}  median {statistics.median(walls) * 1000:8.1f}  p95 {percentile(walls, 95) * 1000:8.1f} ms")
        bare_median = results["bare GROUP BY"][0]
        for name, _fn in variants[1:]:
            click.echo(f"  {name} / bare GROUP BY: {results[name][0] / bare_median:.2f}x")
        for name, _fn in variants[2:]:
            same = plain(results["trial_balance_of (today)"][1]) == plain(results[name][1])
            click.echo(f"  {name} equals trial_balance_of: {same}")
    finally:
        engine.dispose()
    return results


@click.command()
@click.option("--source", default=str(HERE / "ledger-1000000.db"), show_default=True)
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(1))
@click.option("--dated", is_flag=True, help="Also try variant 2: a date column on the postings (DATED_DDL).")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), help=f"The trial balance's date [default: {END}, the last day of the data].")
def main(source: str, rounds: int, dated: bool, on) -> None:  # noqa: ANN001
    click.echo(machine())
    day = on.date() if on else END
    target = Path(source).with_name(Path(source).stem + "-experiment.db")
    started = time.perf_counter()
    copy_database(Path(source), target)
    click.echo(f"copied {source} -> {target} in {time.perf_counter() - started:.1f} s; trial balance on {day}")
    url = f"sqlite:///{target}"
    time_all(url, day, rounds, "before: the schema of the migrations")
    started = time.perf_counter()
    with sqlite3.connect(target) as conn:
        conn.execute(DDL)
    size = target.stat().st_size / 1e6
    click.echo(f"\n{DDL}\n  built in {time.perf_counter() - started:.1f} s; file now {size:.0f} MB")
    time_all(url, day, rounds, "after the DDL")
    if dated:
        started = time.perf_counter()
        with sqlite3.connect(target) as conn:
            for statement in DATED_DDL:
                conn.execute(statement)
        click.echo(f"\nvariant 2: {'; '.join(DATED_DDL)}\n  applied in {time.perf_counter() - started:.1f} s; file now {target.stat().st_size / 1e6:.0f} MB")
        time_all(url, day, rounds, "after variant 2", dated=True)


if __name__ == "__main__":
    main()
