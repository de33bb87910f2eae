"""Below the ORM: triggers refuse raw UPDATE/DELETE; verify names a row changed without them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from core.cli import main
from ledger.api import credit, debit, post
from ledger.check import verify_org
from core.models import Organisation
from tests.ledger.conftest import Ledger, journal_counts

STATEMENTS = [
    "UPDATE ledger_transactions SET narration = 'changed'",
    "DELETE FROM ledger_transactions",
    "UPDATE ledger_postings SET amount_minor = amount_minor + 1",
    "DELETE FROM ledger_postings",
    "DELETE FROM ledger_closed_periods",
]


def three_entries(lg: Ledger) -> list[int]:
    ids = []
    for n in (1, 2, 3):
        t = post(lg.session, lg.book, date(2026, 3, n), f"Donation {n}", [debit("Assets:Bank:USD", D(n), "USD"), credit("Income:Donations:Fund-A", D(n), "USD")])
        ids.append(t.id)
    lg.session.commit()
    return ids


@pytest.mark.parametrize("statement", STATEMENTS)
def test_raw_sql_cannot_change_the_journal(ledger: Ledger, statement: str) -> None:
    three_entries(ledger)
    from ledger.api import close_period

    close_period(ledger.session, ledger.book, date(2026, 3, 1))
    ledger.session.commit()
    before = journal_counts(ledger.session)
    with pytest.raises(DatabaseError, match="append-only"):
        ledger.session.execute(text(statement))
    ledger.session.rollback()
    assert journal_counts(ledger.session) == before


def drop_triggers(lg: Ledger) -> None:
    conn = lg.session.connection()
    for table in ("ledger_transactions", "ledger_postings"):
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        else:
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
    lg.session.commit()


def run_verify(database_url: str, slug: str):  # noqa: ANN201
    return CliRunner().invoke(main, ["--database-url", database_url, "ledger", "verify", "--org", slug])


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE ledger_transactions SET narration = 'Donation 20' WHERE id = {mid}", "content does not match"),
        ("UPDATE ledger_postings SET amount_minor = amount_minor * 10 WHERE transaction_id = {mid}", "content does not match"),
        ("DELETE FROM ledger_postings WHERE transaction_id = {mid}", "no postings"),
        ("UPDATE ledger_transactions SET date = '2026-03-09' WHERE id = {mid}", "content does not match"),
    ],
)
def test_verify_names_the_first_row_changed_behind_the_apps_back(ledger: Ledger, database_url: str, tamper: str, problem: str) -> None:
    ids = three_entries(ledger)
    result = run_verify(database_url, ledger.org_slug)
    assert result.exit_code == 0, result.output
    drop_triggers(ledger)
    ledger.session.execute(text(tamper.format(mid=ids[1])))
    ledger.session.commit()
    ledger.session.expire_all()
    breaks = verify_org(ledger.session, ledger.session.get(Organisation, ledger.org_id))
    assert [(b.transaction_id, b.seq) for b in breaks] == [(ids[1], 2)]
    assert problem in breaks[0].problem
    result = run_verify(database_url, ledger.org_slug)
    assert result.exit_code == 1
    assert f"transaction {ids[1]} (seq 2)" in result.output


def test_verify_notices_a_deleted_row(ledger: Ledger) -> None:
    ids = three_entries(ledger)
    drop_triggers(ledger)
    ledger.session.execute(text("DELETE FROM ledger_postings WHERE transaction_id = :i"), {"i": ids[1]})
    ledger.session.execute(text("DELETE FROM ledger_transactions WHERE id = :i"), {"i": ids[1]})
    ledger.session.commit()
    ledger.session.expire_all()
    (b,) = verify_org(ledger.session, ledger.session.get(Organisation, ledger.org_id))
    assert (b.transaction_id, b.seq) == (ids[2], 3) and "expected seq 2" in b.problem


def test_verify_notices_a_row_inserted_behind_the_apps_back(ledger: Ledger) -> None:
    ids = three_entries(ledger)
    last_hash = ledger.session.execute(text("SELECT hash FROM ledger_transactions WHERE id = :i"), {"i": ids[2]}).scalar_one()
    ledger.session.execute(
        text(
            "INSERT INTO ledger_transactions (book_id, seq, date, flag, narration, meta, links, tags, created_at, hash, prev_hash) "
            "VALUES (:b, 4, '2026-03-04', '*', 'forged', '{}', '[]', '[]', '2026-03-04 00:00:00', :h, :p)"
        ),
        {"b": ledger.book.id, "h": "f" * 64, "p": last_hash},
    )
    forged = ledger.session.execute(text("SELECT id FROM ledger_transactions WHERE seq = 4")).scalar_one()
    account = ledger.session.execute(text("SELECT id FROM ledger_accounts WHERE name = 'Assets:Bank:USD'")).scalar_one()
    ledger.session.execute(
        text("INSERT INTO ledger_postings (transaction_id, account_id, amount_minor, currency, weight_minor, weight_currency) VALUES (:t, :a, 100, 'USD', 100, 'USD')"),
        {"t": forged, "a": account},
    )
    ledger.session.commit()
    ledger.session.expire_all()
    (b,) = verify_org(ledger.session, ledger.session.get(Organisation, ledger.org_id))
    assert (b.transaction_id, b.seq) == (forged, 4) and "does not match its hash" in b.problem
