"""Fixtures for the ``grants`` module: a case, a general book with bank and cash accounts and a
funded restricted fund, and the forms of a plan and of an approval.

``world``'s organisation ``a`` enables every module, ``b`` only ``training``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.context import Context
from core.models import Case, Role
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from ledger.api import create_fund, general_book, open_account, record_donor_income, record_price

TODAY = date.today()
OPENED = TODAY - timedelta(days=400)


@pytest.fixture
def make_case(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Case]:
    """``make_case("a", "Sok Dara")``: a committed case of that organisation's case manager."""

    def make(org: str = "a", name: str = "Sok Dara") -> Case:
        ctx = ctx_for(Role.case_manager, org)
        person = persons.create_person(ctx, PersonIn(name=name))
        case = cases.create_case(ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id))
        db.commit()
        return case

    return make


@pytest.fixture
def books(db: Session, world) -> Callable[..., None]:  # noqa: ANN001
    """``books("a", income="1000.00", bank=("USD", "KHR"))``: the general book with the bank and
    cash accounts asked for, a restricted fund ``Reintegration`` holding ``income`` dollars, and a
    rate of 4100 riel to the dollar."""

    def make(org: str = "a", income: str = "1000.00", bank: tuple[str, ...] = ("USD", "KHR"), rate: bool = True) -> None:
        org_id = world.org_ids[org]
        book = general_book(db, org_id)
        for kind in ("Bank", "Cash"):
            for currency in bank:
                open_account(db, book, f"Assets:{kind}:{currency}", [currency], OPENED)
        fund = create_fund(db, org_id, "Reintegration", "Reintegration grants", OPENED, donor="Mekong Justice Foundation")
        if Decimal(income):
            record_donor_income(db, fund, OPENED, Decimal(income), "USD", "Assets:Bank:USD" if "USD" in bank else f"Assets:Bank:{bank[0]}")
        if rate:
            record_price(db, org_id, OPENED, "USD", "KHR", Decimal("4100"))
        db.commit()

    return make


def plan_form(**extra: Any) -> dict[str, Any]:
    """A valid business plan: two cost items (a sewing machine in dollars, cloth in riel)."""
    return {
        "business_type": "tailoring", "description": "Sewing repairs at the market", "village": "Prey Sar", "commune": "Chbar Ampov",
        "district": "Chbar Ampov", "province": "Phnom Penh",
        "items.0.description": "Sewing machine", "items.0.amount": "180.00", "items.0.currency": "USD",
        "items.1.description": "Cloth", "items.1.amount": "200,000", "items.1.currency": "KHR",
        "items.2.currency": "USD",  # a blank row keeps its currency select: still blank
        "expected_income": "150", "expected_income_currency": "USD", "contribution": "20", "contribution_currency": "USD",
        "certificate_number": "HC-2026-000001", **extra,
    }


def approve_form(**extra: Any) -> dict[str, Any]:
    """An approval of 500 USD from Reintegration: 60 % at start, 40 % after a visit; 200 USD
    repayable in two instalments."""
    return {
        "amount": "500", "currency": "USD", "fund": "Reintegration",
        "tranches.0.share": "60%", "tranches.0.condition": "At start",
        "tranches.1.share": "40%", "tranches.1.condition": "After a follow-up visit confirms the business runs",
        "repayable": "200",
        "instalments.0.due_on": (TODAY + timedelta(days=90)).isoformat(), "instalments.0.amount": "100",
        "instalments.1.due_on": (TODAY + timedelta(days=180)).isoformat(), "instalments.1.amount": "100.00",
        **extra,
    }
