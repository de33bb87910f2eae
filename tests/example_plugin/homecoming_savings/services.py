"""Recording deposits and reading them back; every query is limited to the current organisation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from core.plugin_api import ActionRefused, Case, Context, Event, Organisation, Person, User, record_event
from core.plugin_api import gettext as _
from homecoming_savings.models import Deposit, from_minor, to_minor
from homecoming_savings.schemas import DepositEvent, DepositIn

VIEW = "savings.view"
RECORD = "savings.record"
EVENT_KIND = "savings.deposit"


def record_deposit(ctx: Context, case: Case, data: DepositIn) -> Deposit:
    """Add a deposit to ``case`` and its ``savings.deposit`` event to the timeline, in the
    caller's transaction (the route commits both or neither)."""
    if not ctx.user.can(RECORD):
        raise ActionRefused(_("Your role does not allow this."))
    deposit = Deposit(
        org_id=ctx.org_id,
        case_id=case.id,
        amount_minor=to_minor(data.amount, data.currency),
        currency=data.currency,
        deposited_on=data.deposited_on,
        note=data.note,
        recorded_by_id=ctx.user.id,
    )
    ctx.session.add(deposit)
    ctx.session.flush()
    payload = DepositEvent(deposit_id=deposit.id, amount=data.amount, currency=data.currency)
    record_event(ctx, case, EVENT_KIND, data.deposited_on, summary=data.note, payload=payload, system=True)
    return deposit


def deposits_of(ctx: Context, case: Case) -> list[Deposit]:
    """The case's deposits, newest first."""
    query = (
        select(Deposit)
        .where(Deposit.org_id == ctx.org_id, Deposit.case_id == case.id)
        .order_by(Deposit.deposited_on.desc(), Deposit.id.desc())
    )
    return list(ctx.session.scalars(query))


def totals(ctx: Context, case: Case | None = None) -> dict[str, Decimal]:
    """Saved so far per currency, for one case or the whole organisation."""
    query = select(Deposit.currency, func.sum(Deposit.amount_minor)).where(Deposit.org_id == ctx.org_id)
    if case is not None:
        query = query.where(Deposit.case_id == case.id)
    rows = ctx.session.execute(query.group_by(Deposit.currency).order_by(Deposit.currency)).all()
    return {currency: from_minor(int(minor), currency) for currency, minor in rows}


def recent(ctx: Context, limit: int = 50) -> list[Row[Any]]:
    """The organisation's latest deposits with the participant's name, for the overview page."""
    query = (
        select(Deposit, Person.name.label("person_name"))
        .join(Case, Case.id == Deposit.case_id)
        .join(Person, Person.id == Case.person_id)
        .where(Deposit.org_id == ctx.org_id)
        .order_by(Deposit.deposited_on.desc(), Deposit.id.desc())
        .limit(limit)
    )
    return list(ctx.session.execute(query).all())


def add_demo_deposits(session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date) -> None:
    """Monthly deposits since release for every third released participant (no randomness)."""
    recorder = staff.get("case_manager")
    for case in cases[::3]:
        if case.actual_release is None:
            continue
        amount = Decimal(5 + case.id % 5).quantize(Decimal("0.01"))
        for month in range(1, 4):
            on = case.actual_release + timedelta(days=30 * month)
            if on > today:
                break
            deposit = Deposit(
                org_id=organisation.id, case_id=case.id, amount_minor=to_minor(amount, "USD"), currency="USD",
                deposited_on=on, recorded_by_id=recorder.id if recorder else None,
            )
            session.add(deposit)
            session.flush()
            payload = DepositEvent(deposit_id=deposit.id, amount=amount, currency="USD").model_dump(mode="json")
            session.add(
                Event(org_id=organisation.id, case_id=case.id, kind=EVENT_KIND, occurred_on=on,
                      recorded_by_id=deposit.recorded_by_id, summary="", payload=payload)
            )
