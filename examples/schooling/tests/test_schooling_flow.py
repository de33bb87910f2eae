"""The whole path of the module in the running app: enrol a child of the case's person, the
refusals with their field messages, pay school fees (one balanced journal entry with the module's
metadata), reverse a payment, the case tab, the timeline, the report indicator and the ledger
check; who may do what, and another organisation's records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.plugin_api import Event, Role
from homecoming_schooling import services
from homecoming_schooling.models import Enrolment, FeePayment
from ledger.api import JournalTransaction, Posting

EXPENSE = "Expenses:Schooling:Fees"
BANK = "Assets:Bank:USD"


@pytest.fixture
def family(hc_case, add_relative, hc_ledger):  # noqa: ANN001, ANN201
    """A case whose person has a child and a sibling, and the bank account fees are paid from."""
    case = hc_case("Sok Dara")
    child = add_relative(case, "Sok Mealea", "child")
    sibling = add_relative(case, "Sok Vanna", "sibling")
    hc_ledger.open(BANK, ["USD"])
    return case, child, sibling


def _enrol_form(child: int, **changes: object) -> dict[str, object]:
    today = date.today()
    return {"child_id": child, "school": "Hope Primary School", "grade": "Grade 3", "school_year": f"{today.year}-{today.year + 1}",
            "currency": "USD", "fee": "12.50", "fee_period": "month", "enrolled_on": today.isoformat(), **changes}


def _rows(hc_session, model):  # noqa: ANN001, ANN202
    hc_session.rollback()
    hc_session.expire_all()
    return list(hc_session.scalars(select(model).order_by(model.id)))


def test_enrol_pay_reverse_tab_timeline_and_ledger(hc_client, hc_session, hc_ledger, hc_ctx, family) -> None:  # noqa: ANN001
    case, child, _sibling = family
    client = hc_client(Role.case_manager)
    today = date.today()

    # enrol
    response = client.post_form(f"/schooling/cases/{case.id}/enrolments", _enrol_form(child))
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == f"/schooling/cases/{case.id}#enrolments"
    (enrolment,) = _rows(hc_session, Enrolment)
    assert (enrolment.org_id, enrolment.case_id, enrolment.child_id) == (case.org_id, case.id, child)
    assert (enrolment.fee_minor, enrolment.currency, enrolment.school_year) == (1250, "USD", f"{today.year}-{today.year + 1}")

    # pay a fee: one balanced entry, with the module's metadata, in the same transaction
    response = client.post_form(f"/schooling/cases/{case.id}/payments",
                                {"enrolment_id": enrolment.id, "amount": "12.50", "covers": "November", "reference": "R-17",
                                 "paid_on": today.isoformat()})
    assert response.status_code == 303, response.text[:2000]
    (payment,) = _rows(hc_session, FeePayment)
    assert (payment.amount_minor, payment.currency, payment.account) == (1250, "USD", BANK)
    txn = hc_session.get(JournalTransaction, payment.txn_id)
    assert txn.meta["plugin"] == "schooling" and int(txn.meta["case_id"]) == case.id
    postings = list(hc_session.scalars(select(Posting).where(Posting.transaction_id == txn.id)))
    assert sorted(p.amount_minor for p in postings) == [-1250, 1250] and sum(p.amount_minor for p in postings) == 0
    assert hc_ledger.balance(EXPENSE) == Decimal("12.50")
    assert hc_ledger.balance(BANK) == Decimal("-12.50")
    assert hc_ledger.check() == []

    # the case tab (a fragment for htmx, a page without JavaScript) and the case page
    tab = client.get(f"/schooling/cases/{case.id}/tab", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text
    assert "Sok Mealea" in tab.text and "Hope Primary School" in tab.text and "$12.50" in tab.text
    assert "<html" in client.get(f"/schooling/cases/{case.id}/tab").text
    case_page = client.get(f"/cases/{case.id}").text
    assert 'data-tab="schooling"' in case_page

    # the timeline
    hc_session.rollback()
    kinds = list(hc_session.scalars(select(Event.kind).where(Event.case_id == case.id, Event.kind.like("schooling.%")).order_by(Event.id)))
    assert kinds == ["schooling.enrolled", "schooling.fee_paid"]
    timeline = client.get(f"/cases/{case.id}/timeline", params={"kind": "schooling.fee_paid"}).text
    assert "School fees paid" in timeline and "Sok Mealea" in timeline

    # a payment is never edited: it is reversed, and the balance moves back
    response = client.post_form(f"/schooling/payments/{payment.id}/reverse", {"reversed_on": today.isoformat(), "reverse_reason": "Paid twice"})
    assert response.status_code == 303, response.text[:2000]
    (payment,) = _rows(hc_session, FeePayment)
    reversal = hc_session.get(JournalTransaction, payment.reversal_txn_id)
    assert reversal.reverses_id == payment.txn_id
    assert hc_ledger.balance(EXPENSE) == Decimal("0") and hc_ledger.balance(BANK) == Decimal("0")
    again = client.post_form(f"/schooling/payments/{payment.id}/reverse", {"reversed_on": today.isoformat(), "reverse_reason": "Again"})
    assert again.status_code == 422 and "already reversed" in again.text
    assert "Paid twice" in client.get(f"/schooling/cases/{case.id}").text
    assert hc_ledger.check() == []

    # the overview and the report indicator
    assert "Sok Mealea" in client.get("/schooling").text
    first = today.replace(day=1)
    assert services.enrolled_by_month(hc_ctx(), first, today) == {first: 1}


def test_enrolment_refusals_have_field_messages(hc_client, hc_session, family) -> None:  # noqa: ANN001
    case, child, sibling = family
    client = hc_client(Role.case_manager)
    url = f"/schooling/cases/{case.id}/enrolments"

    not_a_child = client.post_form(url, _enrol_form(sibling))
    assert not_a_child.status_code == 422
    assert 'id="e-child_id"' in not_a_child.text and "Only a child of Sok Dara can be enrolled" in not_a_child.text

    bad_year = client.post_form(url, _enrol_form(child, school_year="2026"))
    assert bad_year.status_code == 422 and 'id="e-school_year"' in bad_year.text

    riel_cents = client.post_form(url, _enrol_form(child, currency="KHR", fee="1000.50"))
    assert riel_cents.status_code == 422 and 'id="e-fee"' in riel_cents.text

    assert client.post_form(url, _enrol_form(child)).status_code == 303
    twice = client.post_form(url, _enrol_form(child, school="Another School"))
    assert twice.status_code == 422
    assert 'id="e-school_year"' in twice.text and "already enrolled at Hope Primary School" in twice.text
    assert len(_rows(hc_session, Enrolment)) == 1

    closed = client.post_form(f"/cases/{case.id}/status", {"status": "closed", "close_reason": "completed"})
    assert closed.status_code == 303, closed.text[:1000]
    next_year = date.today().year + 1
    refused = client.post_form(url, _enrol_form(child, school_year=f"{next_year}-{next_year + 1}"))
    assert refused.status_code == 422 and "This case is closed" in refused.text
    assert len(_rows(hc_session, Enrolment)) == 1


def test_a_fee_needs_the_account_it_is_paid_from(hc_client, hc_session, hc_ledger, family) -> None:  # noqa: ANN001
    case, child, _sibling = family
    client = hc_client(Role.case_manager)
    assert client.post_form(f"/schooling/cases/{case.id}/enrolments", _enrol_form(child, currency="KHR", fee="40000")).status_code == 303
    (enrolment,) = _rows(hc_session, Enrolment)
    response = client.post_form(f"/schooling/cases/{case.id}/payments",
                                {"enrolment_id": enrolment.id, "amount": "40000", "paid_on": date.today().isoformat()})
    assert response.status_code == 422 and "Assets:Cash:KHR" in response.text and 'id="e-amount"' in response.text
    assert _rows(hc_session, FeePayment) == [] and hc_ledger.balance(EXPENSE, "KHR") == Decimal("0")

    hc_ledger.open("Assets:Cash:KHR", ["KHR"])
    ok = client.post_form(f"/schooling/cases/{case.id}/payments", {"enrolment_id": enrolment.id, "amount": "40,000", "paid_on": date.today().isoformat()})
    assert ok.status_code == 303, ok.text[:2000]
    assert hc_ledger.balance(EXPENSE, "KHR") == Decimal("40000") and hc_ledger.check() == []


def test_a_role_without_the_permission_gets_403(hc_client, family) -> None:  # noqa: ANN001
    case, child, _sibling = family
    viewer = hc_client(Role.viewer)
    assert viewer.get(f"/schooling/cases/{case.id}/tab").status_code == 200
    assert viewer.post_form(f"/schooling/cases/{case.id}/enrolments", _enrol_form(child)).status_code == 403
    assert viewer.get("/schooling/settings").status_code == 403
    assert hc_client(Role.case_manager).get("/schooling/settings").status_code == 403
    assert hc_client(Role.admin).get("/schooling/settings").status_code == 200


def test_another_organisation_gets_404(hc_client, hc_session, family, hc_other_org) -> None:  # noqa: ANN001
    case, child, _sibling = family
    assert hc_client(Role.case_manager).post_form(f"/schooling/cases/{case.id}/enrolments", _enrol_form(child)).status_code == 303
    (enrolment,) = _rows(hc_session, Enrolment)
    other = hc_client(Role.admin, org=hc_other_org)
    assert other.get(f"/schooling/cases/{case.id}").status_code == 404
    assert other.get(f"/schooling/cases/{case.id}/tab").status_code == 404
    assert other.post_form(f"/schooling/cases/{case.id}/payments", {"enrolment_id": enrolment.id, "amount": "1", "paid_on": date.today().isoformat()}).status_code == 404
    assert "Sok Mealea" not in other.get("/schooling").text


def test_settings_choose_the_accounts(hc_client, hc_session, hc_ledger, family) -> None:  # noqa: ANN001
    case, child, _sibling = family
    admin = hc_client(Role.admin)
    bad = admin.post_form("/schooling/settings", {"expense_account": "Schooling", "pay_from_usd": BANK, "pay_from_khr": "Assets:Cash:KHR"})
    assert bad.status_code == 422 and 'id="e-expense_account"' in bad.text
    saved = admin.post_form("/schooling/settings", {"expense_account": "Expenses:Programme:Schooling", "pay_from_usd": "Assets:Cash:USD",
                                                    "pay_from_khr": "Assets:Cash:KHR"})
    assert saved.status_code == 303
    hc_ledger.open("Assets:Cash:USD", ["USD"])
    client = hc_client(Role.case_manager)
    assert client.post_form(f"/schooling/cases/{case.id}/enrolments", _enrol_form(child)).status_code == 303
    (enrolment,) = _rows(hc_session, Enrolment)
    paid = client.post_form(f"/schooling/cases/{case.id}/payments", {"enrolment_id": enrolment.id, "amount": "5", "paid_on": date.today().isoformat()})
    assert paid.status_code == 303
    assert hc_ledger.balance("Expenses:Programme:Schooling") == Decimal("5.00") and hc_ledger.balance("Assets:Cash:USD") == Decimal("-5.00")
