"""Fixtures for the ``release_support`` module: a released person's case, a general book with
cash and bank accounts and a funded restricted fund, the module's settings, two stock items with
receipts, and the forms of a release-day record.

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
from core.models import Case, CaseStatus, Event, Role
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from ledger.api import JournalTransaction, create_fund, general_book, open_account, record_donor_income, record_price
from plugins.release_support import services
from plugins.release_support.models import ChecklistStep, ReleaseRecord, StockItem, StockReceipt
from plugins.release_support.schemas import ItemIn, ReceiptIn, SettingsIn

TODAY = date.today()
OPENED = TODAY - timedelta(days=400)
RELEASED = TODAY - timedelta(days=2)


@pytest.fixture
def make_case(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Case]:
    """``make_case("a", "Sok Dara", released=RELEASED)``: a committed case; released on that day
    (status ``released``), or still inside with ``released=None``."""

    def make(org: str = "a", name: str = "Sok Dara", released: date | None = RELEASED, status: CaseStatus | None = None) -> Case:
        ctx = ctx_for(Role.case_manager, org)
        person = persons.create_person(ctx, PersonIn(name=name, name_km="សុខ ដារ៉ា", village="Phum Thmei"))
        case = cases.create_case(ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id, prison="CC1 Prey Sar"))
        case.actual_release = released
        case.status = status or (CaseStatus.released if released else CaseStatus.pre_release)
        db.commit()
        return case

    return make


@dataclass
class Stock:
    soap: StockItem
    net: StockItem


@pytest.fixture
def books(db: Session, world, ctx_for) -> Callable[..., Stock]:  # noqa: ANN001
    """``books("a")``: the general book with bank and cash accounts, a restricted fund
    ``Reintegration`` holding ``income`` dollars, 4,000 riel to the dollar, the module's settings
    (that fund, cash accounts, defaults 40,000 riel fare, 10,000 a day of food, 20,000 a night;
    ceilings 100 USD and 400,000 riel), and two stock items received: 20 bars of soap at 2,000
    riel and 10 mosquito nets at 4.50 USD."""

    def make(org: str = "a", income: str = "500.00", fund: str | None = "Reintegration") -> Stock:
        org_id = world.org_ids[org]
        book = general_book(db, org_id)
        for name, currency in (("Assets:Bank:USD", "USD"), ("Assets:Cash:USD", "USD"), ("Assets:Cash:KHR", "KHR")):
            open_account(db, book, name, [currency], OPENED)
        created = create_fund(db, org_id, "Reintegration", "Reintegration", OPENED, donor="Mekong Justice Foundation")
        if Decimal(income):
            record_donor_income(db, created, OPENED, Decimal(income), "USD", "Assets:Bank:USD")
        record_price(db, org_id, OPENED, "USD", "KHR", Decimal("4000"))
        admin = ctx_for(Role.admin, org)
        services.save_settings(admin, SettingsIn(
            fund=fund or "", pay_from_usd="Assets:Cash:USD", pay_from_khr="Assets:Cash:KHR", currency="KHR",
            fare=Decimal("40000"), food_per_day=Decimal("10000"), night_rate=Decimal("20000"),
            ceiling_usd=Decimal("100"), ceiling_khr=Decimal("400000"),
        ))
        keeper = ctx_for(Role.programme_officer, org)
        soap = services.add_item(keeper, ItemIn(name="Soap", unit="bar", currency="KHR", low_at=5))
        net = services.add_item(keeper, ItemIn(name="Mosquito net", unit="net", currency="USD", low_at=2))
        services.receive(keeper, ReceiptIn(item=soap.id, received_on=OPENED, quantity=20, unit_cost=Decimal("2000"), supplier="Orussey Market"))
        services.receive(keeper, ReceiptIn(item=net.id, received_on=OPENED, quantity=10, unit_cost=Decimal("4.50"), paid_from="Assets:Bank:USD"))
        db.commit()
        return Stock(soap, net)

    return make


def record_form(**extra: Any) -> dict[str, Any]:
    """Support in riel: 40,000 fare, two days of food at 10,000, one night at 20,000."""
    return {
        "given_on": RELEASED.isoformat(), "currency": "KHR", "fare": "40,000", "food_days": "2", "food_per_day": "10000",
        "nights": "1", "night_rate": "20000", "handed_over_by": "", "notes": "Met at the gate", **extra,
    }


def send(client: TestClient, url: str, data: dict[str, Any]):  # noqa: ANN201
    """POST a form as the browser does, with the CSRF token; redirects are not followed."""
    form: dict[str, Any] = {k: [str(x) for x in v] if isinstance(v, list) else ("" if v is None else str(v)) for k, v in data.items()}
    form["_csrf_token"] = client.cookies.get("hc_csrf", "")
    return client.post(url, data=form, follow_redirects=False)


def fresh(db: Session) -> Session:
    db.rollback()
    db.expire_all()
    return db


def counts(db: Session) -> tuple[int, ...]:
    """Records, receipts, items, checklist steps, journal entries and events: what a refusal must
    leave as it was."""
    fresh(db)
    return tuple(db.scalar(select(func.count()).select_from(m)) for m in (ReleaseRecord, StockReceipt, StockItem, ChecklistStep, JournalTransaction, Event))


def refused(response, message: str, field: str | None = None) -> None:  # noqa: ANN001
    assert response.status_code == 422, response.text[:800]
    assert message in response.text, (message, response.text[:3000])
    if field:
        assert f'id="e-{field}"' in response.text, field
