"""What a case manager needs to see first: caseload and follow-ups due (releases coming:
:mod:`core.services.readiness`)."""

from __future__ import annotations

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


def follow_ups_due(ctx: Context, case_manager_id: int | None = None, limit: int = 50) -> list[followups.Due]:
    """Released cases whose next follow-up visit is due within a week or overdue, most overdue
    first, under the organisation's policy (the rules: :mod:`core.services.followups`)."""
    return followups.due_and_overdue(ctx, case_manager_id)[:limit]
