"""The ledger's demo data: a year of entries in both demo organisations that beancount accepts."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, select

from core.cli import main
from core.db import make_engine, make_session_factory
from core.demo import DEMO_PASSWORD
from core.models import Organisation
from core.plugins import get_plugin_manager
from core.settings import get_settings
from core.web.app import create_app
from ledger.api import Book, ClosedPeriod, JournalTransaction, Posting, Price, trial_balance
from ledger.audit import JOURNAL_PAGE
from tests.conftest import DEMO_TODAY

TODAY = DEMO_TODAY


def test_both_demo_organisations_get_a_year_of_entries(demo_db: str) -> None:
    url = demo_db
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        orgs = list(session.scalars(select(Organisation)))
        assert len(orgs) == 2
        for org in orgs:
            (book,) = session.scalars(select(Book).where(Book.org_id == org.id, Book.kind == "general"))
            txns = list(session.scalars(select(JournalTransaction).where(JournalTransaction.book_id == book.id)))
            assert len(txns) > 100
            assert min(t.date for t in txns) == date(2025, 4, 1) and max(t.date for t in txns) <= TODAY
            assert sum(1 for t in txns if t.reverses_id is not None) >= 1
            assert sum(1 for t in txns if "case_id" in t.meta) >= 12
            assert {p.currency for t in txns for p in t.postings} == {"USD", "KHR"}
            assert any(p.price_rate for t in txns for p in t.postings)
            assert session.scalar(select(func.count()).select_from(Price).where(Price.org_id == org.id)) == 14
            assert session.scalar(select(ClosedPeriod.through).where(ClosedPeriod.book_id == book.id)) == date(2025, 4, 30)
            assert set(trial_balance(session, book).values()) == {0}
            # the bank account's journal runs over more than one page
            bank = session.scalar(
                select(func.count()).select_from(Posting).join(JournalTransaction).where(JournalTransaction.book_id == book.id, Posting.currency == "USD")
            )
            assert bank > JOURNAL_PAGE
    engine.dispose()


@pytest.mark.parametrize("slug", ["fresh-start", "beyond-bars"])
def test_ledger_check_and_verify_pass_on_the_demo(demo_db: str, slug: str) -> None:
    url = demo_db
    for command in ("check", "verify"):
        result = CliRunner().invoke(main, ["--database-url", url, "ledger", command, "--org", slug])
        assert result.exit_code == 0, result.output


def test_every_audit_page_of_the_demo_has_content(demo_db: str, demo_logins: list[tuple[str, str, str]]) -> None:
    url, logins = demo_db, demo_logins
    email = next(e for slug, role, e in logins if slug == "beyond-bars" and role == "auditor")
    app = create_app(get_settings(url, secret_key="test-secret"), get_plugin_manager())
    try:
        client = TestClient(app, raise_server_exceptions=False)
        client.get("/login")
        client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "_csrf_token": client.cookies.get("hc_csrf", ""), "next": "/"})
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            org_id = session.scalar(select(Organisation.id).where(Organisation.slug == "beyond-bars"))
            book = session.scalar(select(Book).where(Book.org_id == org_id))
            reversal = session.scalar(select(JournalTransaction).where(JournalTransaction.book_id == book.id, JournalTransaction.reverses_id.is_not(None)))
            case_id = reversal.meta["case_id"]
        engine.dispose()
        pages = {
            "/ledger": "General",
            f"/ledger/books/{book.id}?on={TODAY.isoformat()}": "Assets:Bank:USD",
            f"/ledger/transactions/{reversal.reverses_id}": f"/ledger/transactions/{reversal.id}",
            f"/ledger/books/{book.id}/reversals": "Entered twice",
            f"/ledger/books/{book.id}/periods": "Sophal Finance",
            f"/ledger/books/{book.id}/export": "Mekong Justice Foundation",
            f"/ledger/cases/{case_id}": "Tools and materials",
            f"/ledger/books/{book.id}/accounts": "Income:Donations:Reintegration",
            f"/ledger/books/{book.id}?on={TODAY.isoformat()}&currency=USD": "Difference from converting",
            "/ledger/funds": "Skills for Life Trust",
            "/ledger/budget": "Expenses:Programme:Vocational-Training",
            "/ledger/checks": "every chain holds",
        }
        for page, expected in pages.items():
            response = client.get(page)
            assert response.status_code == 200 and expected in response.text, page
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 3, 31), date(2024, 2, 29), date(2026, 12, 15)])
def test_the_demo_book_is_sound_whatever_today_is(db, today: date) -> None:  # noqa: ANN001
    from core.services.admin import create_organisation
    from ledger.check import check_org, verify_org
    from ledger.demo import load

    org = create_organisation(db, "demo-x", "Demo X", [])
    load(db, org, [], {}, today)
    db.commit()
    assert check_org(db, org) == {f"demo-x-{db.scalar(select(Book.id))}-general.beancount": []}
    assert verify_org(db, org) == []
    book = db.scalar(select(Book))
    txns = list(db.scalars(select(JournalTransaction)))
    assert max(t.date for t in txns) <= today and sum(1 for t in txns if t.reverses_id) == 1
    assert set(trial_balance(db, book).values()) == {0}
