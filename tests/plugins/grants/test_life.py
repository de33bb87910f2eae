"""The whole life of a grant through the HTTP interface, and every refusal on the way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Case, CaseStatus, Event, Role
from ledger.api import Account, Book, JournalTransaction, balances, general_book
from plugins.grants.models import CostItem, Grant, Movement, MonthFigures
from tests.conftest import post_form
from tests.plugins.grants.conftest import TODAY, approve_form, plan_form


def fresh(db: Session) -> Session:
    db.rollback()
    db.expire_all()
    return db


def counts(db: Session) -> tuple[int, int, int, int, int]:
    """Grants, movements, month records, journal entries and events: what a refusal must leave."""
    fresh(db)
    return tuple(db.scalar(select(func.count()).select_from(m)) for m in (Grant, Movement, MonthFigures, JournalTransaction, Event))  # type: ignore[return-value]


def entry(db: Session, txn_id: int) -> dict[tuple[str, str], int]:
    txn = db.get(JournalTransaction, txn_id)
    assert txn is not None
    return {(p.account.name, p.currency): p.amount_minor for p in txn.postings}


def refused(response, message: str, field: str | None = None) -> None:  # noqa: ANN001
    assert response.status_code == 422, response.text[:500]
    assert message in response.text, message
    if field:
        assert f'id="e-{field}"' in response.text, field


def test_the_whole_life_of_a_grant(client_for, make_case, books, db: Session) -> None:
    case = make_case("a")
    books("a", income="2000.00")
    manager, officer, finance = (client_for(role, "a") for role in (Role.case_manager, Role.programme_officer, Role.finance))

    # 1. the case manager records the plan from the case tab
    tab = manager.get(f"/grants/cases/{case.id}/tab", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text and f"/grants/cases/{case.id}/new" in tab.text
    assert manager.get(f"/grants/cases/{case.id}/new").status_code == 200
    response = post_form(manager, f"/grants/cases/{case.id}/plans", plan_form())
    assert response.status_code == 303
    grant = fresh(db).scalar(select(Grant))
    assert grant is not None and response.headers["location"] == f"/grants/{grant.id}"
    assert (grant.status, grant.business_type, grant.expected_income_minor, grant.certificate_number) == ("submitted", "tailoring", 15000, "HC-2026-000001")
    assert [(i.description, i.amount_minor, i.currency) for i in db.scalars(select(CostItem).order_by(CostItem.position))] == [
        ("Sewing machine", 18000, "USD"), ("Cloth", 200000, "KHR")]
    url = f"/grants/{grant.id}"

    # 2. nothing is paid before approval
    refused(post_form(finance, f"{url}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD"}),
            "The plan is not approved yet")

    # 3. the review refuses schedules that do not add up
    before = counts(db)
    refused(post_form(officer, f"{url}/approve", approve_form(**{"tranches.1.share": "30%"})), "The tranches add up to", "tranches")
    refused(post_form(officer, f"{url}/approve", approve_form(**{"instalments.1.amount": "90"})), "The repayment schedule adds up to", "instalments")
    refused(post_form(officer, f"{url}/approve", approve_form(repayable="600")), "The repayable part cannot be more than the grant.", "repayable")
    refused(post_form(officer, f"{url}/approve", approve_form(**{"tranches.3.share": "abc", "tranches.3.condition": "Later"})),
            "Enter an amount such as 1250 or 12.50.", "tranches.3.share")
    refused(post_form(officer, f"{url}/approve", approve_form(fund="Nope")), "Choose one of the options.", "fund")
    assert counts(db) == before

    # 4. approval: the microbusiness gets its own book
    assert post_form(officer, f"{url}/approve", approve_form()).status_code == 303
    grant = fresh(db).get(Grant, grant.id)
    assert (grant.status, grant.amount_minor, grant.repayable_minor, [t.amount_minor for t in grant.tranches]) == ("approved", 50000, 20000, [30000, 20000])
    book = db.get(Book, grant.book_id)
    assert (book.kind, book.reference) == ("microbusiness", f"grant-{grant.id}")
    assert {"Assets:Cash", "Assets:Stock", "Equity:Owner:Grant", "Income:Sales"} <= set(db.scalars(select(Account.name).where(Account.book_id == book.id)))
    refused(post_form(officer, f"{url}/reject", {"reason": "Too late"}), "Only a submitted plan can be approved or rejected.")

    # 5. tranche 1 paid in riel cash at the day's rate, with a receipt
    page = finance.get(url)
    assert page.status_code == 200 and 'id="disburse"' in page.text and 'id="approve"' not in page.text
    assert post_form(finance, f"{url}/disburse", {"paid_on": TODAY, "method": "cash", "currency": "KHR"}).status_code == 303
    (first,) = fresh(db).scalars(select(Movement))
    year = TODAY.year
    assert (first.kind, first.amount_minor, first.loan_minor, first.paid_minor, first.paid_currency, first.receipt) == (
        "tranche", 30000, 12000, 1230000, "KHR", f"GR-{year}-0001")
    assert entry(db, first.general_txn_id) == {
        ("Expenses:Programme:Grants", "USD"): 18000, ("Assets:Receivable:Grant-Loans", "USD"): 12000, ("Assets:Cash:KHR", "KHR"): -1230000}
    general = db.get(JournalTransaction, first.general_txn_id)
    assert general.meta == {"plugin": "grants", "grant_id": grant.id, "case_id": case.id, "fund": "Reintegration", "receipt": f"GR-{year}-0001"}
    assert general.links == [f"grant-{grant.id}"] and {p.price_rate for p in general.postings} == {"4100", None}
    assert entry(db, first.business_txn_id) == {("Assets:Cash", "KHR"): 1230000, ("Equity:Owner:Grant", "KHR"): -1230000}

    # 6. a sewing machine bought in kind counts against the approved amount
    purchase = {"description": "Sewing machine", "supplier": "Olympic market", "asset": "equipment", "amount": "150.00",
                "paid_on": TODAY, "method": "bank", "currency": "USD"}
    assert post_form(finance, f"{url}/purchases", purchase).status_code == 303
    bought = fresh(db).scalar(select(Movement).where(Movement.kind == "purchase"))
    assert (bought.amount_minor, bought.loan_minor, bought.receipt) == (15000, 6000, f"GR-{year}-0002")
    assert entry(db, bought.business_txn_id) == {("Assets:Equipment", "USD"): 15000, ("Equity:Owner:Grant", "USD"): -15000}

    # 7. tranche 2 as scheduled (200) is beyond what is left (50); 50 is paid
    before = counts(db)
    refused(post_form(finance, f"{url}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD"}),
            "This is more than is left of the approved amount", "amount")
    refused(post_form(finance, f"{url}/purchases", {**purchase, "amount": "60"}), "This is more than is left of the approved amount", "amount")
    assert counts(db) == before
    assert post_form(finance, f"{url}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD", "amount": "50"}).status_code == 303
    refused(post_form(finance, f"{url}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD"}),
            "Every tranche of this grant is already disbursed.")
    fresh(db)
    gl = balances(db, general_book(db, grant.org_id))
    assert gl[("Assets:Receivable:Grant-Loans", "USD")] == 20000  # the whole repayable part, exactly
    assert gl[("Expenses:Programme:Grants", "USD")] == 30000

    # 8. repayments: not above the balance
    refused(post_form(finance, f"{url}/repayments", {"amount": "250", "paid_on": TODAY, "method": "cash", "currency": "USD"}),
            "This is more than the balance owed", "amount")
    assert post_form(finance, f"{url}/repayments", {"amount": "50", "paid_on": TODAY, "method": "cash", "currency": "USD"}).status_code == 303
    repaid = fresh(db).scalar(select(Movement).where(Movement.kind == "repayment"))
    assert entry(db, repaid.general_txn_id) == {("Assets:Cash:USD", "USD"): 5000, ("Assets:Receivable:Grant-Loans", "USD"): -5000}
    assert repaid.receipt == f"GR-{year}-0004"
    assert "Repaying" in finance.get(url).text

    # 9. write-off of the rest, refused when nothing is left, reversed
    refused(post_form(finance, f"{url}/write-off", {"written_on": TODAY, "reason": ""}), "This field is required.", "reason")
    assert post_form(finance, f"{url}/write-off", {"written_on": TODAY, "reason": "Moved away"}).status_code == 303
    off = fresh(db).scalar(select(Movement).where(Movement.kind == "write_off"))
    assert entry(db, off.general_txn_id) == {("Expenses:Programme:Grants:Written-Off", "USD"): 15000, ("Assets:Receivable:Grant-Loans", "USD"): -15000}
    refused(post_form(finance, f"{url}/write-off", {"written_on": TODAY, "reason": "Again"}), "there is nothing to write off")
    assert "Written off" in finance.get(url).text
    assert post_form(finance, f"{url}/write-off/reverse", {"written_on": TODAY, "reason": "He came back"}).status_code == 303
    back = fresh(db).scalar(select(Movement).where(Movement.kind == "write_off_reversal"))
    reversal = db.get(JournalTransaction, back.general_txn_id)
    assert reversal.reverses_id == off.general_txn_id and f"reverses-{off.general_txn_id}" in reversal.links
    assert balances(db, general_book(db, grant.org_id))[("Assets:Receivable:Grant-Loans", "USD")] == 15000
    refused(post_form(finance, f"{url}/write-off/reverse", {"written_on": TODAY, "reason": "x"}), "There is no write-off to reverse.")

    # 10. the business's month, in its own book
    month = TODAY.strftime("%Y-%m")
    figures = {"month": month, "sales": "300", "costs": "120", "drawings": "50", "stock": "80", "still_trading": "yes", "note": "Busy"}
    assert post_form(manager, f"{url}/months", figures).status_code == 303
    record = fresh(db).scalar(select(MonthFigures))
    assert (record.profit_minor, record.stock_change_minor) == (26000, 8000)
    business = balances(db, book)
    assert business[("Assets:Cash", "USD")] == 30000 - 12000 - 5000 + 5000  # tranche 2 (50 USD) + sales - costs - drawings
    assert business[("Assets:Stock", "USD")] == 8000
    refused(post_form(manager, f"{url}/months", figures), "Figures for this month are already recorded", "month")
    refused(post_form(manager, f"{url}/months", {**figures, "month": f"{TODAY.year + 1}-01"}), "The month cannot be in the future.", "month")
    refused(post_form(manager, f"{url}/months", {**figures, "sales": "12.345"}), "US dollars have at most 2 decimal places.", "sales")
    # a correction reverses the month's entry; the month is then recorded again
    assert post_form(manager, f"{url}/months/{record.id}/correct", {"reason": "Sales were 280"}).status_code == 303
    assert post_form(manager, f"{url}/months", {**figures, "sales": "280"}).status_code == 303
    assert balances(db, book)[("Income:Sales", "USD")] == -28000

    # 11. the page, the list and the timeline
    page = client_for(Role.viewer, "a").get(url).text
    for text in ("Sewing machine", f"GR-{year}-0001", "Olympic market", "Balance owed", "<svg", "Repaying", "Still trading", "Moved away"):
        assert text in page, text
    assert "<script" not in page.split("<main>")[1]
    assert f'data-grant="{grant.id}"' in manager.get("/grants?status=approved").text
    assert f'data-grant="{grant.id}"' not in manager.get("/grants?status=rejected").text
    kinds = set(fresh(db).scalars(select(Event.kind).where(Event.case_id == case.id, Event.kind.like("grants.%"))))
    assert kinds == {"grants.plan_submitted", "grants.approved", "grants.tranche_disbursed", "grants.purchase_recorded",
                     "grants.repayment_recorded", "grants.written_off", "grants.write_off_reversed", "grants.business_month"}
    assert "Grant tranche disbursed" in manager.get(f"/cases/{case.id}").text


def test_a_rejected_plan_needs_a_reason_and_is_never_paid(client_for, make_case, books, db: Session) -> None:
    case = make_case("a")
    books("a")
    post_form(client_for(Role.case_manager, "a"), f"/grants/cases/{case.id}/plans", plan_form())
    grant = fresh(db).scalar(select(Grant))
    officer, finance = client_for(Role.programme_officer, "a"), client_for(Role.finance, "a")
    refused(post_form(officer, f"/grants/{grant.id}/reject", {"reason": "  "}), "This field is required.", "reason")
    assert post_form(officer, f"/grants/{grant.id}/reject", {"reason": "Three stalls already"}).status_code == 303
    assert fresh(db).get(Grant, grant.id).status == "rejected"
    before = counts(db)
    refused(post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD"}),
            "This plan was rejected")
    refused(post_form(finance, f"/grants/{grant.id}/purchases", {"description": "x", "asset": "stock", "amount": "5", "paid_on": TODAY,
                                                                  "method": "bank", "currency": "USD"}), "This plan was rejected")
    refused(post_form(officer, f"/grants/{grant.id}/approve", approve_form()), "Only a submitted plan")
    assert counts(db) == before
    assert "Three stalls already" in finance.get(f"/grants/{grant.id}").text


def _approved(client_for, make_case, db: Session, **approval: str) -> Grant:  # noqa: ANN001
    case = make_case("a")
    post_form(client_for(Role.case_manager, "a"), f"/grants/cases/{case.id}/plans", plan_form())
    grant = fresh(db).scalar(select(Grant).where(Grant.case_id == case.id))
    assert post_form(client_for(Role.programme_officer, "a"), f"/grants/{grant.id}/approve", approve_form(**approval)).status_code == 303
    return grant


def test_a_fund_without_money_refuses_the_tranche(client_for, make_case, books, db: Session) -> None:
    books("a", income="100.00")
    grant = _approved(client_for, make_case, db)
    before = counts(db)
    response = post_form(client_for(Role.finance, "a"), f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "bank", "currency": "USD"})
    refused(response, "Fund Reintegration has", "amount")
    assert counts(db) == before


def test_missing_bank_account_or_rate_is_refused_with_what_to_do(client_for, make_case, books, db: Session) -> None:
    books("a", bank=("USD",), rate=False)
    grant = _approved(client_for, make_case, db)
    finance = client_for(Role.finance, "a")
    refused(post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "cash", "currency": "KHR"}),
            "The general book has no account Assets:Cash:KHR: ask finance to open it in the chart of accounts.", "method")
    before = counts(db)
    from ledger.api import open_account

    open_account(db, general_book(db, grant.org_id), "Assets:Cash:KHR", ["KHR"], date(2020, 1, 1))
    db.commit()
    refused(post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "cash", "currency": "KHR"}),
            "There is no exchange rate from USD to KHR", "currency")
    refused(post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": "2001-01-01", "method": "bank", "currency": "USD"}),
            "The date cannot be before the approval", "paid_on")
    assert counts(db)[:2] == before[:2]


def test_a_closed_case_gets_no_plan_and_bad_input_gets_field_messages(client_for, make_case, db: Session) -> None:
    case = make_case("a")
    manager = client_for(Role.case_manager, "a")
    before = counts(db)
    refused(post_form(manager, f"/grants/cases/{case.id}/plans", {**plan_form(), "items.0.description": "", "items.0.amount": "",
                                                                  "items.1.description": "", "items.1.amount": ""}),
            "List at least one start-up cost.")
    refused(post_form(manager, f"/grants/cases/{case.id}/plans", plan_form(**{"items.1.amount": "12.5", "items.1.currency": "KHR"})),
            "Riel are whole numbers.", "items.1.amount")
    refused(post_form(manager, f"/grants/cases/{case.id}/plans", plan_form(**{"items.3.description": "Scissors", "items.3.amount": "1e9"})),
            "Enter an amount such as 1250 or 12.50.", "items.3.amount")
    refused(post_form(manager, f"/grants/cases/{case.id}/plans", plan_form(business_type="casino", expected_income="")),
            "Choose one of the options.", "business_type")
    fresh(db).get(Case, case.id).status = CaseStatus.closed
    db.commit()
    refused(post_form(manager, f"/grants/cases/{case.id}/plans", plan_form()), "This case is closed")
    assert counts(db) == before


def test_a_conversion_that_is_not_whole_riel_is_refused_and_a_whole_one_posts_at_the_rate(client_for, make_case, books, db: Session) -> None:
    from ledger.api import record_price

    books("a", income="2000.00", rate=False)
    grant = _approved(client_for, make_case, db)
    record_price(db, grant.org_id, date(2020, 1, 1), "USD", "KHR", Decimal("4085.5"))
    db.commit()
    finance = client_for(Role.finance, "a")
    before = counts(db)
    refused(post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "cash", "currency": "KHR", "amount": "180.01"}),
            "is not a whole number of KHR", "amount")
    assert counts(db) == before
    assert post_form(finance, f"/grants/{grant.id}/disburse", {"paid_on": TODAY, "method": "cash", "currency": "KHR"}).status_code == 303
    paid = fresh(db).scalar(select(Movement))
    assert (paid.paid_minor, paid.rate) == (1225650, "4085.5")  # 300 USD at 4,085.5 riel
