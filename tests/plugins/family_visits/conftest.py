"""Fixtures for the ``family_visits`` module: a prisoner's case with two linked family members
(and a stranger who is not linked), a general book with cash accounts and a funded restricted
fund, the module's settings, and the forms of a plan and of a visit.

``world``'s organisation ``a`` enables every module, ``b`` only ``training``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import Context
from core.models import Case, Event, Person, Role
from core.schemas import CaseIn, PersonIn, PersonLinkIn
from core.services import cases, persons
from ledger.api import JournalTransaction, create_fund, general_book, open_account, record_donor_income, record_price
from plugins.family_visits import services
from plugins.family_visits.models import Visit, VisitPlan
from plugins.family_visits.schemas import SettingsIn

TODAY = date.today()
OPENED = TODAY - timedelta(days=400)
START = services.add_months(TODAY, -3)
"""The plans' first month: three months before this one."""


def day_in(months_back: int, day: int = 5) -> date:
    """A day of the month ``months_back`` before this one (never after today)."""
    return min(services.add_months(TODAY, -months_back).replace(day=day), TODAY)


@dataclass
class Family:
    case: Case
    mother: Person
    spouse: Person
    stranger: Person


@pytest.fixture
def make_family(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Family]:
    """``make_family("a", "Sok Dara", prison="Prey Sar")``: a prisoner's committed case, the
    prisoner linked to a mother and a spouse, and a person of the organisation not linked."""

    def make(org: str = "a", name: str = "Sok Dara", prison: str = "Prey Sar") -> Family:
        ctx = ctx_for(Role.case_manager, org)
        prisoner = persons.create_person(ctx, PersonIn(name=name, name_km="សុខ ដារ៉ា", village="Phum Thmei"))
        mother = persons.create_person(ctx, PersonIn(name=f"{name} mother"))
        spouse = persons.create_person(ctx, PersonIn(name=f"{name} spouse"))
        stranger = persons.create_person(ctx, PersonIn(name=f"{name} neighbour"))
        persons.link_family(ctx, prisoner, PersonLinkIn(relative_id=mother.id, relation="parent"))
        persons.link_family(ctx, spouse, PersonLinkIn(relative_id=prisoner.id, relation="spouse"))  # linked from the other side
        case = cases.create_case(ctx, CaseIn(person_id=prisoner.id, case_manager_id=ctx.user.id, prison=prison))
        db.commit()
        return Family(case, mother, spouse, stranger)

    return make


@pytest.fixture
def books(db: Session, world, ctx_for) -> Callable[..., None]:  # noqa: ANN001
    """``books("a")``: the general book with ``Assets:Cash`` (and bank) accounts in ``cash``
    currencies, a restricted fund ``Reintegration`` holding ``income`` dollars, a rate of 4100 riel
    to the dollar, and the module's settings (that fund; limits 15 USD and 60,000 riel)."""

    def make(org: str = "a", income: str = "1000.00", cash: tuple[str, ...] = ("USD", "KHR"), fund: str | None = "Reintegration") -> None:
        org_id = world.org_ids[org]
        book = general_book(db, org_id)
        open_account(db, book, "Assets:Bank:USD", ["USD"], OPENED)
        for currency in cash:
            open_account(db, book, f"Assets:Cash:{currency}", [currency], OPENED)
        created = create_fund(db, org_id, "Reintegration", "Reintegration", OPENED, donor="Mekong Justice Foundation")
        if Decimal(income):
            record_donor_income(db, created, OPENED, Decimal(income), "USD", "Assets:Bank:USD")
        record_price(db, org_id, OPENED, "USD", "KHR", Decimal("4100"))
        services.save_settings(ctx_for(Role.admin, org), SettingsIn(fund=fund or "", limit_usd=Decimal("15"), limit_khr=Decimal("60000")))
        db.commit()

    return make


def plan_form(family: Family, **extra: Any) -> dict[str, Any]:
    """A monthly plan from three months ago: mother and spouse, 30,000 riel transport and 10,000 food."""
    return {
        "members": [family.mother.id, family.spouse.id], "village": "Phum Thmei", "prison": family.case.prison or "Prey Sar",
        "interval_months": "1", "starts_on": START.strftime("%Y-%m"), "currency": "KHR",
        "transport": "30,000", "food": "10000", "accommodation": "", **extra,
    }


def visit_form(family: Family, on: date, **extra: Any) -> dict[str, Any]:
    """A visit by the mother, paid in cash in riel at the plan's amounts."""
    return {
        "visited_on": on.isoformat(), "visitors": [family.mother.id], "duration_minutes": "60", "notes": "A good visit",
        "payment": "cash", "currency": "KHR", "transport": "30000", "food": "10000", "accommodation": "", "reference": "",
        "paid_to": "", "approved_by": "", "approval_note": "", **extra,
    }


def send(client: TestClient, url: str, data: dict[str, Any]):  # noqa: ANN201
    """POST a form with repeated fields (lists) as the browser does, with the CSRF token."""
    form: dict[str, Any] = {k: [str(x) for x in v] if isinstance(v, list) else ("" if v is None else str(v)) for k, v in data.items()}
    form["_csrf_token"] = client.cookies.get("hc_csrf", "")
    return client.post(url, data=form, follow_redirects=False)


def fresh(db: Session) -> Session:
    db.rollback()
    db.expire_all()
    return db


def counts(db: Session) -> tuple[int, ...]:
    """Plans, visits, journal entries and events: what a refusal must leave as it was."""
    fresh(db)
    return tuple(db.scalar(select(func.count()).select_from(m)) for m in (VisitPlan, Visit, JournalTransaction, Event))


def refused(response, message: str, field: str | None = None) -> None:  # noqa: ANN001
    assert response.status_code == 422, response.text[:800]
    assert message in response.text, (message, response.text[:3000])
    if field:
        assert f'id="e-{field}"' in response.text, field


@pytest.fixture
def planned(make_family, books, client_for) -> Family:  # noqa: ANN001
    """A family with its plan set through the plan form, and the books ready."""
    books("a")
    family = make_family("a")
    response = send(client_for(Role.case_manager, "a"), f"/family-visits/cases/{family.case.id}/plan", plan_form(family))
    assert response.status_code == 303, response.text[:2000]
    return family
