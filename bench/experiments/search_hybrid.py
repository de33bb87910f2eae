"""Proposed change to ``core.services.cases`` (search_cases, prisons), tried by monkeypatching:

    .venv/bin/python -m bench.run --preload bench/experiments/search_hybrid.py \
        --database-url sqlite:////tmp/bench-scratch/idx.db

It needs two more indexes on ``cases`` (``bench/experiments/indexes.sql``, applied to a copy of
bench.db; in core they would be an Alembic revision and ``Case.__table_args__``).

1. search_cases: count (up to PROBE) the persons whose Latin or Khmer name starts with ``q``, on
   the name indexes. Few: find the cases from those persons (and the prisoner number), by index.
   Many: the matches are dense, so walking the organisation's cases newest first finds a page
   quickly (the current query). Today every search walks the cases, which is slow exactly when
   the prefix is rare (a full name, a typo, a prisoner number): the whole status scanned.
2. prisons: the distinct prisons by skipping through ix_cases_org_prison (a recursive CTE, one
   index seek per prison) instead of reading all of the organisation's index entries.
"""

from __future__ import annotations

import os

from sqlalchemy import Row, func, or_, select, union, union_all
from sqlalchemy.orm import aliased

from core.context import Context
from core.models import Case, Person, User
from core.services import cases
from core.services.search import prefix_match

PROBE = int(os.environ.get("BENCH_PROBE", "2000"))
"""Below this many persons matching the prefix, drive the search from the name indexes
(``BENCH_PROBE`` to try other values)."""


def search_cases(
    ctx: Context,
    q: str = "",
    status: str | None = None,
    case_manager_id: int | None = None,
    prison: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Row], bool, int]:
    manager = aliased(User)
    where = [Case.org_id == ctx.org_id]
    if status:
        where.append(Case.status == status)
    if case_manager_id:
        where.append(Case.case_manager_id == case_manager_id)
    if prison:
        where.append(Case.prison == prison)
    text = q.strip()
    if text:
        persons = union_all(
            select(Person.id).where(Person.org_id == ctx.org_id, prefix_match(ctx.session, Person.name, text)),
            select(Person.id).where(Person.org_id == ctx.org_id, prefix_match(ctx.session, Person.name_km, text)),
        )
        n_persons = ctx.session.scalar(select(func.count()).select_from(persons.limit(PROBE).subquery())) or 0
        if n_persons < PROBE:
            matching = union(
                select(Case.id).where(Case.person_id.in_(persons)),
                select(Case.id).where(Case.org_id == ctx.org_id, Case.prisoner_number == text),
            )
            where.append(Case.id.in_(matching))
        else:
            where.append(
                or_(
                    prefix_match(ctx.session, Person.name, q),
                    prefix_match(ctx.session, Person.name_km, q),
                    Case.prisoner_number == text,
                )
            )
    base = select(Case.id).join(Person, Person.id == Case.person_id).where(*where)
    page = ctx.session.execute(
        select(
            Case.id,
            Case.status,
            Case.prison,
            Case.prisoner_number,
            Case.expected_release,
            Case.actual_release,
            Case.person_id,
            Person.name.label("person_name"),
            Person.name_km.label("person_name_km"),
            manager.name.label("case_manager_name"),
        )
        .join(Person, Person.id == Case.person_id)
        .outerjoin(manager, manager.id == Case.case_manager_id)
        .where(*where)
        .order_by(Case.id.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    has_more = len(page) > limit
    total = len(page[:limit]) + offset
    if has_more:
        total = ctx.session.scalar(select(func.count()).select_from(base.limit(cases.COUNT_CAP + 1).subquery())) or 0
    return page[:limit], has_more, total


def prisons(ctx: Context) -> list[str]:
    """Distinct prisons: one index seek per prison (a loose index scan) instead of all cases."""
    walk = select(func.min(Case.prison).label("prison")).where(Case.org_id == ctx.org_id).cte("walk", recursive=True)
    following = select(func.min(Case.prison)).where(Case.org_id == ctx.org_id, Case.prison > walk.c.prison).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.prison.is_not(None)))
    return list(ctx.session.scalars(select(walk.c.prison).where(walk.c.prison.is_not(None))))


cases.search_cases = search_cases
cases.prisons = prisons
