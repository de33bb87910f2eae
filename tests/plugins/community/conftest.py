"""Fixtures for the ``community`` module: released people's cases with a home address, their
consent to share with partners (recorded through core's consent service), partners near and far,
a general book with cash accounts for meeting costs, and the form helpers.

``world``'s organisation ``a`` enables every module, ``b`` only ``training``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.context import Context
from core.models import Case, CaseStatus, Consent, ConsentMethod, ConsentPurpose, Event, Role
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from core.services.consent import ConsentIn, WithdrawalIn, record_consent, withdraw_consent
from ledger.api import (
    JournalTransaction,
    create_fund,
    general_book,
    open_account,
    record_donor_income,
)
from plugins.community import services
from plugins.community.models import Attendance, Meeting, MeetingCost, Partner, Referral
from plugins.community.schemas import PartnerIn, SettingsIn

TODAY = date.today()
OPENED = TODAY - timedelta(days=400)
RELEASED = TODAY - timedelta(days=60)
SIGNED = TODAY - timedelta(days=200)
HOME = {"village": "Phum Thmei", "commune": "Kien Svay commune", "district": "Kien Svay", "province": "Kandal"}


@pytest.fixture
def make_case(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Case]:
    """``make_case("a", "Sok Dara", released=RELEASED, **address)``: a committed case of a person
    living at ``HOME`` (or the address given); released on that day, or still inside with
    ``released=None``."""

    def make(org: str = "a", name: str = "Sok Dara", released: date | None = RELEASED, status: CaseStatus | None = None, **address: str) -> Case:
        ctx = ctx_for(Role.case_manager, org)
        person = persons.create_person(ctx, PersonIn(name=name, **{**HOME, **address}))
        case = cases.create_case(ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id, prison="CC1 Prey Sar"))
        case.actual_release = released
        case.status = status or (CaseStatus.released if released else CaseStatus.pre_release)
        db.commit()
        return case

    return make


@pytest.fixture
def consent(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Consent]:
    """``consent(case)``: the person agreed (signed, on ``OPENED``) to share with partners, through
    core's consent service; ``consent(case, withdrawn_on=day)`` withdraws it on that day."""

    def give(case: Case, org: str = "a", purpose: ConsentPurpose = ConsentPurpose.share_with_partners, given_on: date = OPENED,
             withdrawn_on: date | None = None) -> Consent:
        ctx = ctx_for(Role.case_manager, org)
        person = persons.get_person(ctx, case.person_id)
        row = record_consent(ctx, person, ConsentIn(purpose=purpose, method=ConsentMethod.signed, given_on=given_on))
        if withdrawn_on is not None:
            withdraw_consent(ctx, person, row, WithdrawalIn(withdrawn_on=withdrawn_on))
        db.commit()
        return row

    return give


def partner_form(**extra: Any) -> dict[str, Any]:
    """A church in the same commune as ``HOME``, with a signed agreement."""
    return {"kind": "church", "name": "Grace Church", "contact_person": "Pastor Sok Chea", "phone": "012 345 678", "village": "Phum Chas",
            "commune": "Kien Svay commune", "district": "Kien Svay", "province": "Kandal", "helps_with": "Home visits, encouragement",
            "agreement_signed": "on", "agreement_on": SIGNED.isoformat(), **extra}


@pytest.fixture
def make_partner(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Partner]:
    """``make_partner(name=..., commune=..., agreement_signed=False)``: a committed partner
    (``partner_form``'s fields, overridden)."""

    def make(org: str = "a", **extra: Any) -> Partner:
        fields = partner_form(**extra)
        fields["agreement_signed"] = fields["agreement_signed"] in ("on", True)
        if not fields["agreement_signed"]:
            fields["agreement_on"] = None
        partner = services.add_partner(ctx_for(Role.programme_officer, org), PartnerIn(**fields))
        db.commit()
        return partner

    return make


@pytest.fixture
def books(db: Session, world, ctx_for) -> Callable[..., None]:
    """``books("a")``: the general book with cash accounts in dollars and riel (and a bank
    account), a restricted fund ``Peer-Support`` holding ``income`` dollars, and the module's
    settings: cash accounts to pay from, the fund when ``fund`` is set."""

    def make(org: str = "a", fund: bool = False, income: str = "50.00") -> None:
        org_id = world.org_ids[org]
        book = general_book(db, org_id)
        for name, currency in (("Assets:Bank:USD", "USD"), ("Assets:Cash:USD", "USD"), ("Assets:Cash:KHR", "KHR")):
            open_account(db, book, name, [currency], OPENED)
        created = create_fund(db, org_id, "Peer-Support", "Peer support", OPENED, donor="Mekong Justice Foundation")
        record_donor_income(db, created, OPENED, Decimal(income), "USD", "Assets:Cash:USD")
        services.save_settings(ctx_for(Role.admin, org), SettingsIn(
            fund="Peer-Support" if fund else "", pay_from_usd="Assets:Cash:USD", pay_from_khr="Assets:Cash:KHR"))
        db.commit()

    return make


def send(client: TestClient, url: str, data: dict[str, Any]):
    """POST a form as the browser does, with the CSRF token; redirects are not followed."""
    form: dict[str, Any] = {k: "" if v is None else str(v) for k, v in data.items()}
    form["_csrf_token"] = client.cookies.get("hc_csrf", "")
    return client.post(url, data=form, follow_redirects=False)


def fresh(db: Session) -> Session:
    db.rollback()
    db.expire_all()
    return db


def counts(db: Session) -> tuple[int, ...]:
    """Partners, referrals, meetings, attendance, costs, journal entries and events: what a
    refusal must leave as it was."""
    fresh(db)
    return tuple(db.scalar(select(func.count()).select_from(m)) for m in (Partner, Referral, Meeting, Attendance, MeetingCost, JournalTransaction, Event))


def refused(response, message: str, field: str | None = None) -> None:
    assert response.status_code == 422, response.text[:800]
    assert message in response.text, (message, response.text[:3000])
    if field:
        assert f'id="e-{field}"' in response.text, field
