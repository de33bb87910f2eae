"""A cohort of 30 over 40 sessions: the attendance sheet and the cohort page stay one page and
take a fixed number of SQL statements, however many students and marks there are."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar import Litestar
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from core.models import Case, Person, Role
from plugins.training.models import Attendance, Cohort, Enrolment, TrainingSession
from tests.conftest import World, post_form

STUDENTS, SESSIONS = 30, 40


@pytest.fixture
def big_cohort(db: Session, world: World, make_cohort) -> Cohort:  # noqa: ANN001
    cohort = make_cohort("a", capacity=STUDENTS, sessions=0)
    org = world.org_ids["a"]
    person_ids = [db.execute(insert(Person).values(org_id=org, name=f"Student {i:02d}").returning(Person.id)).scalar_one() for i in range(STUDENTS)]
    case_ids = [db.execute(insert(Case).values(org_id=org, person_id=p, programme="", status="released").returning(Case.id)).scalar_one() for p in person_ids]
    enrolment_ids = [
        db.execute(insert(Enrolment).values(org_id=org, cohort_id=cohort.id, case_id=c, enrolled_on=cohort.starts_on, status="enrolled", drop_note="").returning(Enrolment.id)).scalar_one()
        for c in case_ids
    ]
    session_ids = [
        db.execute(insert(TrainingSession).values(org_id=org, cohort_id=cohort.id, held_on=cohort.starts_on + timedelta(days=k), topic="").returning(TrainingSession.id)).scalar_one()
        for k in range(SESSIONS)
    ]
    db.execute(insert(Attendance), [{"org_id": org, "session_id": s, "enrolment_id": e, "present": (s + e) % 5 != 0} for s in session_ids for e in enrolment_ids])
    db.commit()
    return cohort


@pytest.fixture
def statements(app: Litestar) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, ARG001
        seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", count)
    yield seen
    event.remove(app.state.engine, "before_cursor_execute", count)


def test_attendance_of_30_students_over_40_sessions_stays_one_page_with_fixed_queries(client_for, big_cohort: Cohort, statements: list[str], db: Session) -> None:
    client = client_for(Role.programme_officer, "a")
    session_id = db.scalars(select(TrainingSession.id).where(TrainingSession.cohort_id == big_cohort.id).order_by(TrainingSession.id.desc())).first()
    enrolment_id = db.scalars(select(Enrolment.id).where(Enrolment.cohort_id == big_cohort.id)).first()

    statements.clear()
    sheet = client.get(f"/training/sessions/{session_id}")
    assert sheet.status_code == 200 and sheet.text.count('<tr id="student-') == STUDENTS
    assert len(statements) <= 12, statements  # fixed, not one per student
    statements.clear()
    toggle = post_form(client, f"/training/sessions/{session_id}/attendance/{enrolment_id}", {"present": "1"}, headers={"HX-Request": "true"})
    assert toggle.status_code == 200 and "<tr" in toggle.text
    assert len(statements) <= 14, statements

    statements.clear()
    cohort_page = client.get(f"/training/cohorts/{big_cohort.id}")
    assert cohort_page.status_code == 200 and cohort_page.text.count('href="/training/sessions/') == SESSIONS
    assert len(statements) <= 12, statements
    # How fast it is: a figure from bench/training.py (bench/README.md), not an assertion here.
