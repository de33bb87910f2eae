"""The finance officer's pages (chart of accounts, funds and donor income, budget), the grant
statement, reports in one currency and the checks page: who may do what, what they show, and
refusals that write nothing."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.i18n import format_money
from core.models import Role
from ledger.api import (
    Account, JournalTransaction, create_fund, credit, debit, general_book, get_fund, open_account, post, record_price,
)
from ledger.models import BudgetLine, CheckRun
from tests.conftest import post_form

D0 = date(2026, 1, 1)
ON = date(2026, 3, 1)


@pytest.fixture
def finance(db: Session, world) -> dict[str, int]:  # noqa: ANN001
    ids: dict[str, int] = {}
    for key in ("a", "b"):
        org_id = world.org_ids[key]
        book = general_book(db, org_id)
        for name, currencies in {
            "Assets:Bank:USD": ["USD"], "Assets:Cash:KHR": ["KHR"], "Expenses:Programme:Housing": ["USD", "KHR"],
            "Expenses:Programme:Training": ["USD", "KHR"], "Expenses:Spare": ["USD"],
        }.items():
            account = open_account(db, book, name, currencies, D0)
            ids[f"{key}:{name}"] = account.id
        fund = create_fund(db, org_id, "EU-2026", f"Reintegration {key}", D0, donor="EU")
        ids[f"{key}:fund"] = fund.id
        ids[f"{key}:book"] = book.id
        post(db, book, date(2026, 1, 20), "Riel gift", [debit("Assets:Cash:KHR", D("40000"), "KHR"), credit("Income:Donations:EU-2026", D("40000"), "KHR")])
        record_price(db, org_id, date(2026, 2, 1), "USD", "KHR", D("4000"))
        post(db, book, date(2026, 2, 1), "Tranche", [debit("Assets:Bank:USD", D("1000.00"), "USD"), credit("Income:Donations:EU-2026", D("1000.00"), "USD")])
        post(db, book, date(2026, 2, 2), "Roof repair", [
            debit("Expenses:Programme:Housing", D("400000"), "KHR"), credit("Assets:Cash:KHR", D("400000"), "KHR"),
        ], meta={"fund": "EU-2026", "grant_id": 41 if key == "a" else 42})
    db.commit()
    return ids


def _count(db: Session, model) -> int:  # noqa: ANN001
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_fund_pages_show_balances_per_currency_and_in_one_currency(client_for, finance) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    html = client.get("/ledger/funds?on=2026-03-01&currency=USD").text
    assert "Reintegration a" in html and "Reintegration b" not in html
    block = html[html.index('data-fund="EU-2026"'):]
    assert format_money(D("1000.00"), "USD") in block and format_money(D("400000"), "KHR") in block
    # 1,000 USD and 40,000 KHR received less 400,000 KHR spent, at 4,000 = 910 USD
    assert format_money(D("910.00"), "USD") in block
    assert "1 USD = 4,000 KHR" in html
    in_riel = client.get("/ledger/funds?on=2026-03-01&currency=KHR").text
    assert format_money(D("3640000"), "KHR") in in_riel
    no_rate = client.get("/ledger/funds?on=2026-01-25&currency=USD")
    assert no_rate.status_code == 200 and "o exchange rate from KHR to USD" in no_rate.text
    fund_page = client.get(f"/ledger/funds/{finance['a:fund']}").text
    assert "Roof repair" in fund_page and 'id="income-form"' not in fund_page  # the auditor only reads
    assert client_for(Role.auditor, "a").get(f"/ledger/funds/{finance['b:fund']}").status_code == 404
    assert client_for(Role.case_manager, "a").get("/ledger/funds").status_code == 403


def test_recording_donor_income_posts_one_entry_or_shows_field_messages(client_for, finance, db: Session) -> None:  # noqa: ANN001
    client = client_for(Role.finance, "a")
    url = f"/ledger/funds/{finance['a:fund']}/income"
    before = _count(db, JournalTransaction)
    bad = post_form(client, url, {"on": "2026-03-05", "amount": "12.345", "currency": "USD", "into": "Assets:Bank:USD"})
    assert bad.status_code == 422 and "decimal places" in bad.text
    bad = post_form(client, url, {"on": "", "amount": "-5", "currency": "XYZ", "into": ""})
    assert bad.status_code == 422
    assert {"on", "amount", "currency", "into"} <= set(re.findall(r'id="e-([a-z_]+)"', bad.text))
    bad = post_form(client, url, {"on": "2026-03-05", "amount": "5", "currency": "KHR", "into": "Assets:Bank:USD"})
    assert bad.status_code == 422 and "does not allow KHR" in bad.text
    assert _count(db, JournalTransaction) == before
    ok = post_form(client, url, {"on": "2026-03-05", "amount": "2,500.00", "currency": "USD", "into": "Assets:Bank:USD", "reference": "TT-9"})
    assert ok.status_code == 303 and ok.headers["location"] == f"/ledger/funds/{finance['a:fund']}"
    txn = db.scalar(select(JournalTransaction).order_by(JournalTransaction.id.desc()))
    assert (txn.fund, txn.meta["reference"], txn.payee) == ("EU-2026", "TT-9", "EU")
    assert sorted((p.account.name, p.amount_minor) for p in txn.postings) == [("Assets:Bank:USD", 250000), ("Income:Donations:EU-2026", -250000)]
    assert post_form(client_for(Role.auditor, "a"), url, {"on": "2026-03-05", "amount": "1", "currency": "USD", "into": "Assets:Bank:USD"}).status_code == 403
    assert post_form(client, f"/ledger/funds/{finance['b:fund']}/income", {"on": "2026-03-05", "amount": "1", "currency": "USD", "into": "Assets:Bank:USD"}).status_code == 404


def test_creating_a_fund_opens_its_income_account(client_for, finance, db: Session) -> None:  # noqa: ANN001
    client = client_for(Role.finance, "a")
    bad = post_form(client, "/ledger/funds", {"code": "EU-2026", "name": "Again", "opened_on": "2026-01-01"})
    assert bad.status_code == 422 and "already has a fund" in bad.text
    ok = post_form(client, "/ledger/funds", {"code": "Skills-Trust", "name": "Skills for Life", "donor": "Trust", "restricted": "on", "opened_on": "2026-01-01"})
    assert ok.status_code == 303
    fund = get_fund(db, _org(db, finance), "Skills-Trust")
    assert fund.restricted and ok.headers["location"] == f"/ledger/funds/{fund.id}"
    assert db.scalar(select(Account.id).where(Account.name == "Income:Donations:Skills-Trust", Account.book_id == finance["a:book"]))


def _org(db: Session, finance: dict[str, int]) -> int:
    from ledger.api import Book

    return db.get(Book, finance["a:book"]).org_id


def test_budget_page_and_form(client_for, finance, db: Session) -> None:  # noqa: ANN001
    client = client_for(Role.finance, "a")
    bad = post_form(client, "/ledger/budget", {"year": "2026", "account": "Expenses:Programme:Housing", "amount": "0", "currency": "USD"})
    assert bad.status_code == 422 and 'id="e-amount"' in bad.text
    bad = post_form(client, "/ledger/budget", {"year": "2026", "fund": "Nope", "account": "Expenses:Programme:Housing", "amount": "5", "currency": "USD"})
    assert bad.status_code == 422 and "no fund Nope" in bad.text
    assert _count(db, BudgetLine) == 0
    ok = post_form(client, "/ledger/budget", {"year": "2026", "fund": "EU-2026", "account": "Expenses:Programme", "amount": "500", "currency": "USD"})
    assert ok.status_code == 303 and ok.headers["location"] == "/ledger/budget?year=2026"
    html = client_for(Role.auditor, "a").get("/ledger/budget?year=2026&currency=USD&on=2026-03-01").text
    table = html[html.index('id="budget-by-fund"'):html.index('id="budget-by-programme"')]
    # 400,000 KHR at 4,000 = 100 USD of 500: 20 % used
    assert format_money(D("500.00"), "USD") in table and format_money(D("100.00"), "USD") in table and "20%" in table
    line = db.scalar(select(BudgetLine))
    assert post_form(client_for(Role.finance, "b"), f"/ledger/budget/{line.id}/delete").status_code == 404
    assert post_form(client, f"/ledger/budget/{line.id}/delete").status_code == 303
    assert _count(db, BudgetLine) == 0


def test_chart_of_accounts_opens_and_closes_accounts(client_for, finance, db: Session) -> None:  # noqa: ANN001
    client = client_for(Role.finance, "a")
    book = finance["a:book"]
    assert "Expenses:Programme:Housing" in client.get(f"/ledger/books/{book}/accounts").text
    bad = post_form(client, f"/ledger/books/{book}/accounts", {"name": "assets:bank", "currencies": "USD", "opened_on": "2026-01-01"})
    assert bad.status_code == 422 and "not an account name" in bad.text
    bad = post_form(client, f"/ledger/books/{book}/accounts", {"name": "Assets:Bank:EUR", "opened_on": "2026-01-01"})
    assert bad.status_code == 422 and 'id="e-currencies"' in bad.text
    ok = client.post(
        f"/ledger/books/{book}/accounts",
        data={"name": "Assets:Mobile-Money", "currencies": ["USD", "KHR"], "opened_on": "2026-01-01", "_csrf_token": client.cookies.get("hc_csrf")},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert db.scalar(select(Account.currencies).where(Account.name == "Assets:Mobile-Money")) == "USD,KHR"
    housing = finance["a:Expenses:Programme:Housing"]
    refused = post_form(client, f"/ledger/accounts/{housing}/close", {"closed_on": "2026-03-01"})
    assert refused.status_code == 422 and "still has a balance" in refused.text
    assert post_form(client, f"/ledger/accounts/{finance['a:Expenses:Spare']}/close", {"closed_on": "2026-03-01"}).status_code == 303
    db.expire_all()
    assert db.get(Account, finance["a:Expenses:Spare"]).closed_on == date(2026, 3, 1)
    assert post_form(client, f"/ledger/accounts/{finance['b:Expenses:Spare']}/close", {"closed_on": "2026-03-01"}).status_code == 404
    assert post_form(client_for(Role.auditor, "a"), f"/ledger/books/{book}/accounts", {"name": "Assets:X", "currencies": "USD", "opened_on": "2026-01-01"}).status_code == 403


def test_grant_statement_and_trial_balance_in_one_currency(client_for, finance) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    grant = client.get("/ledger/grants/41").text
    assert "Roof repair" in grant and format_money(D("400000"), "KHR") in grant
    assert client.get("/ledger/grants/42").status_code == 404  # organisation b's grant
    tb = client.get(f"/ledger/books/{finance['a:book']}?on=2026-03-01&currency=USD").text
    converted = tb[tb.index('id="trial-balance-converted"'):]
    # 400,000 KHR of housing at 4,000 = 100 USD; the book balances at one rate: difference zero
    assert format_money(D("100.00"), "USD") in converted and format_money(D("0.00"), "USD") in converted
    assert "o exchange rate from KHR to USD" in client.get(f"/ledger/books/{finance['a:book']}?on=2026-01-25&currency=USD").text


def test_auditors_run_the_checks_and_see_the_latest_result(client_for, finance, db: Session) -> None:  # noqa: ANN001
    client = client_for(Role.auditor, "a")
    assert "Never run" in client.get("/ledger").text
    assert post_form(client, "/ledger/checks").status_code == 303
    html = client.get("/ledger/checks").text
    assert html.count("Passed") >= 2 and "every chain holds" in html
    assert "Passed" in client.get("/ledger").text
    assert _count(db, CheckRun) == 2
    assert post_form(client_for(Role.case_manager, "a"), "/ledger/checks").status_code == 403
    # organisation b sees none of a's runs
    assert "Never run" in client_for(Role.auditor, "b").get("/ledger/checks").text
