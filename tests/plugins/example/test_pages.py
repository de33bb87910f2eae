"""The ``savings`` module in the running app: enabled for organisation ``a``, not for ``b``.

Its menu item, case tab, pages and event kind appear only where it is enabled; switching it off
hides them (404 on its pages) and keeps its records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Case, Event, Role
from homecoming_savings.models import Deposit
from tests.conftest import post_form

MENU_LINK = 'href="/savings"'
FILTER_OPTION = 'value="savings.deposit"'


def _deposits(db: Session) -> list[Deposit]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(Deposit).order_by(Deposit.id)))


def _events(db: Session, case: Case) -> list[Event]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(Event).where(Event.case_id == case.id, Event.kind == "savings.deposit")))


def _shows_module(client: TestClient, case: Case) -> bool:
    """Whether the module shows anywhere: menu, case tab, timeline filter, its own pages."""
    page = client.get(f"/cases/{case.id}").text
    seen = {
        "menu": MENU_LINK in client.get("/").text,
        "tab": 'data-tab="savings"' in page,
        "filter": FILTER_OPTION in page,
        "overview": client.get("/savings").status_code == 200,
        "case page": client.get(f"/savings/cases/{case.id}").status_code == 200,
    }
    assert len(set(seen.values())) == 1, seen  # all or nothing
    return all(seen.values())


@pytest.fixture
def case_a(make_case: Callable[[str], Case], savings_for: Callable[[str, bool], None]) -> Case:
    savings_for("a", True)  # already on (conftest enables every installed module for "a"): say so
    return make_case("a")


def test_case_manager_of_a_records_a_deposit_that_appears_on_the_timeline(client_for, case_a: Case, db: Session) -> None:
    client = client_for(Role.case_manager, "a")
    assert _shows_module(client, case_a)
    tab = client.get(f"/savings/cases/{case_a.id}", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text and 'id="record-deposit"' in tab.text

    response = post_form(client, f"/savings/cases/{case_a.id}/deposits", {"amount": "12.50", "currency": "USD", "deposited_on": date.today().isoformat(), "note": "First wages"})
    assert response.status_code == 303 and response.headers["location"] == f"/savings/cases/{case_a.id}"

    (deposit,) = _deposits(db)
    assert (deposit.org_id, deposit.case_id, deposit.amount_minor, deposit.currency) == (case_a.org_id, case_a.id, 1250, "USD")
    assert deposit.amount == Decimal("12.50")
    (event,) = _events(db, case_a)
    assert event.payload == {"deposit_id": deposit.id, "amount": "12.50", "currency": "USD"}
    assert event.summary == "First wages"

    assert "$12.50" in client.get(f"/savings/cases/{case_a.id}").text
    assert "First wages" in client.get(f"/cases/{case_a.id}").text
    filtered = client.get(f"/cases/{case_a.id}/timeline", params={"kind": "savings.deposit"})
    assert "Savings deposit" in filtered.text and "First wages" in filtered.text and "12.50" in filtered.text
    overview = client.get("/savings").text
    assert "$12.50" in overview and f'href="/cases/{case_a.id}"' in overview


def test_invalid_deposit_is_refused_per_field_and_writes_nothing(client_for, case_a: Case, db: Session) -> None:
    client = client_for(Role.case_manager, "a")
    response = post_form(client, f"/savings/cases/{case_a.id}/deposits", {"amount": "12.345", "currency": "USD", "deposited_on": date.today().isoformat()})
    assert response.status_code == 422
    assert "Too many decimal places for this currency." in response.text
    assert 'value="12.345"' in response.text  # the form keeps what was typed
    response = post_form(client, f"/savings/cases/{case_a.id}/deposits", {"amount": "-5", "currency": "EUR", "deposited_on": ""})
    assert response.status_code == 422
    assert "Choose one of the options." in response.text and "This field is required." in response.text
    assert _deposits(db) == [] and _events(db, case_a) == []


def test_viewer_sees_deposits_but_may_not_record_one(client_for, case_a: Case, db: Session) -> None:
    client = client_for(Role.viewer, "a")
    page = client.get(f"/savings/cases/{case_a.id}")
    assert page.status_code == 200 and 'id="record-deposit"' not in page.text
    response = post_form(client, f"/savings/cases/{case_a.id}/deposits", {"amount": "1", "currency": "USD", "deposited_on": date.today().isoformat()})
    assert response.status_code == 403
    assert _deposits(db) == []


def test_organisation_without_the_module_sees_nothing_of_it(client_for, make_case: Callable[[str], Case], db: Session) -> None:
    case_b = make_case("b")
    # A stray savings event on b's case (say, from before b switched the module off) stays hidden.
    db.add(Event(org_id=case_b.org_id, case_id=case_b.id, kind="savings.deposit", occurred_on=date.today(), summary="Hidden deposit", payload={}))
    db.commit()
    client = client_for(Role.admin, "b")
    assert not _shows_module(client, case_b)
    assert "Hidden deposit" not in client.get(f"/cases/{case_b.id}").text
    filtered = client.get(f"/cases/{case_b.id}/timeline", params={"kind": "savings.deposit"})
    assert filtered.status_code == 200 and "Hidden deposit" not in filtered.text
    response = post_form(client, f"/savings/cases/{case_b.id}/deposits", {"amount": "1", "currency": "USD", "deposited_on": date.today().isoformat()})
    assert response.status_code == 404
    assert _deposits(db) == []


def test_switching_it_off_hides_it_and_keeps_its_records(client_for, case_a: Case, savings_for, db: Session) -> None:
    client = client_for(Role.case_manager, "a")
    post_form(client, f"/savings/cases/{case_a.id}/deposits", {"amount": "3", "currency": "KHR", "deposited_on": date.today().isoformat(), "note": "Kept note"})

    savings_for("a", False)
    assert not _shows_module(client, case_a)
    assert "Kept note" not in client.get(f"/cases/{case_a.id}").text
    assert len(_deposits(db)) == 1 and len(_events(db, case_a)) == 1  # nothing deleted

    savings_for("a", True)
    assert _shows_module(client, case_a)
    assert "Kept note" in client.get(f"/cases/{case_a.id}").text
