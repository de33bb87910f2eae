"""Fixtures for the ``training`` module: cases, a course and a cohort with sessions.

``world``'s organisation ``a`` enables every module, ``b`` only ``training``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from core.context import Context
from core.models import Case, Role
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from plugins.training import services
from plugins.training.models import Cohort
from plugins.training.schemas import CohortIn, CourseIn, SessionIn

TODAY = date.today()


@pytest.fixture
def make_case(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Case]:
    """``make_case("b", "Sok Dara")``: a committed case of that organisation's case manager."""

    def make(org: str = "a", name: str = "Sok Dara") -> Case:
        ctx = ctx_for(Role.case_manager, org)
        person = persons.create_person(ctx, PersonIn(name=name))
        case = cases.create_case(ctx, CaseIn(person_id=person.id, case_manager_id=ctx.user.id))
        db.commit()
        return case

    return make


@pytest.fixture
def make_cohort(db: Session, ctx_for: Callable[..., Context]) -> Callable[..., Cohort]:
    """``make_cohort("a", capacity=2, sessions=4)``: a committed course and cohort (that started
    ``sessions`` weeks ago, one session a week), with pass mark 60 % and attendance 75 %."""

    def make(org: str = "a", capacity: int = 10, sessions: int = 4) -> Cohort:
        ctx = ctx_for(Role.programme_officer, org)
        course = services.save_course(ctx, CourseIn(
            trade="motor_mechanics", title="Motorbike repair", certifying_body="Ministry of Labour", hours=240,
            pass_mark=60, attendance_threshold=75, location="prison", prison="CC1",
        ))
        starts = TODAY - timedelta(days=7 * sessions)
        cohort = services.save_cohort(ctx, CohortIn(course_id=course.id, trainer="Chan Sophal", starts_on=starts, ends_on=TODAY + timedelta(days=30), capacity=capacity))
        for week in range(sessions):
            services.add_session(ctx, cohort, SessionIn(held_on=starts + timedelta(days=7 * week), topic=f"Week {week + 1}"))
        db.commit()
        return cohort

    return make
