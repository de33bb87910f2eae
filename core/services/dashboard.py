"""What a case manager needs to see first: caseload, releases coming, follow-ups due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Row, func, select

from core.context import Context
from core.models import Case, CaseStatus, Person
from core.services import followups


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


def follow_ups_due(ctx: Context, case_manager_id: int | None = None, limit: int = 50) -> list[followups.Due]:
    """Released cases whose next follow-up visit is due within a week or overdue, most overdue
    first, under the organisation's policy (the rules: :mod:`core.services.followups`)."""
    return followups.due_and_overdue(ctx, case_manager_id)[:limit]
