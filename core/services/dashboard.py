"""What a case manager needs to see first: caseload, releases coming, follow-ups due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Row, func, select

from core.context import Context
from core.models import Case, CaseStatus, Event, Organisation, Person

FOLLOW_UP_KIND = "core.follow_up_visit"
DUE_WINDOW_DAYS = 7


@dataclass(frozen=True)
class FollowUp:
    case_id: int
    person_name: str
    person_name_km: str | None
    basis: date
    due_on: date
    overdue_days: int


def status_counts(ctx: Context, case_manager_id: int | None = None) -> dict[str, int]:
    query = select(Case.status, func.count()).where(Case.org_id == ctx.org_id).group_by(Case.status)
    if case_manager_id is not None:
        query = query.where(Case.case_manager_id == case_manager_id)
    return {status: n for status, n in ctx.session.execute(query).all()}


def caseload(ctx: Context, case_manager_id: int, limit: int = 10) -> list[Row]:
    """The case manager's open (not closed) cases, newest first: ``id``, ``status``, ``person_name``."""
    return list(
        ctx.session.execute(
            select(Case.id, Case.status, Person.name.label("person_name"))
            .join(Person, Person.id == Case.person_id)
            .where(Case.org_id == ctx.org_id, Case.case_manager_id == case_manager_id, Case.status != CaseStatus.closed)
            .order_by(Case.id.desc())
            .limit(limit)
        ).all()
    )


def releases_due(ctx: Context, days: int = 90, case_manager_id: int | None = None, limit: int = 20) -> list[Row]:
    """Open cases still inside whose expected release falls in the next ``days`` days."""
    query = (
        select(Case.id, Case.expected_release, Case.prison, Person.name.label("person_name"), Person.name_km.label("person_name_km"))
        .join(Person, Person.id == Case.person_id)
        .where(
            Case.org_id == ctx.org_id,
            Case.status.in_([CaseStatus.referred, CaseStatus.pre_release]),
            Case.expected_release.between(ctx.today, ctx.today + timedelta(days=days)),
        )
        .order_by(Case.expected_release)
        .limit(limit)
    )
    if case_manager_id is not None:
        query = query.where(Case.case_manager_id == case_manager_id)
    return list(ctx.session.execute(query).all())


def follow_ups_due(ctx: Context, case_manager_id: int | None = None, limit: int = 50) -> list[FollowUp]:
    """Released cases whose next follow-up visit is due within a week or overdue, most overdue first.

    The next visit is due ``interval`` days after the last recorded follow-up visit (or after
    release when there was none yet), for ``duration`` months after release (the organisation's
    policy). Derived from cases and events; nothing is stored twice.
    """
    org = ctx.session.get(Organisation, ctx.org_id)
    assert org is not None
    interval = timedelta(days=org.follow_up_interval)
    policy_start = ctx.today - timedelta(days=round(org.follow_up_duration_months * 30.44))
    last_visit = (
        select(func.max(Event.occurred_on))
        # A visit recorded before release (a data-entry slip) does not move the next due date.
        .where(Event.case_id == Case.id, Event.kind == FOLLOW_UP_KIND, Event.occurred_on >= Case.actual_release)
        .correlate(Case)
        .scalar_subquery()
    )
    basis = func.coalesce(last_visit, Case.actual_release)
    query = (
        select(Case.id, Person.name, Person.name_km, basis.label("basis"))
        .join(Person, Person.id == Case.person_id)
        .where(
            Case.org_id == ctx.org_id,
            Case.status.in_([CaseStatus.released, CaseStatus.follow_up]),
            Case.actual_release.is_not(None),
            Case.actual_release >= policy_start,
            basis <= ctx.today + timedelta(days=DUE_WINDOW_DAYS) - interval,
        )
        .order_by(basis)
        .limit(limit)
    )
    if case_manager_id is not None:
        query = query.where(Case.case_manager_id == case_manager_id)
    result = []
    for case_id, name, name_km, basis_value in ctx.session.execute(query).all():
        if isinstance(basis_value, str):  # SQLite returns coalesce() of dates as text
            basis_value = date.fromisoformat(basis_value)
        due = basis_value + interval
        result.append(FollowUp(case_id, name, name_km, basis_value, due, max(0, (ctx.today - due).days)))
    return result
