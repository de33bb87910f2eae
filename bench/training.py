"""Time the training module's attendance sheet at the size issue 5 names: 30 students, 40 sessions.

Builds a fresh database (a temporary SQLite file unless ``--database-url`` names an empty
database): the schema from ``core.migrate.upgrade``, one organisation with the training module,
and a cohort filled through the module's services (30 enrolments, 40 sessions, every student
marked on every session). Then, with the real app in Litestar's ``TestClient`` signed in as a
programme officer, it times the attendance page of one session and one Present/Absent toggle as
htmx posts it (the row swapped in place). Prints n, median and p95; it asserts nothing about time.

    taskset -c 0 .venv/bin/python -m bench.training
    .venv/bin/python -m bench.training --rounds 200 --database-url 'postgresql+psycopg://user@host/empty'
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.run import make_client, ms, percentile
from core.auth import hash_password, load_current_user, role_permissions
from core.context import Context
from core.db import make_engine
from core.migrate import upgrade
from core.models import Membership, Organisation, Role, User
from core.plugins import get_plugin_manager
from core.schemas import CaseIn, PersonIn
from core.services import cases, persons
from core.services.admin import create_organisation

STUDENTS, SESSIONS = 30, 40
PASSWORD = "homecoming-bench"
OFFICER = "programme.officer@training.bench"


def build(database_url: str, today: date) -> tuple[int, int]:
    """Fill the database; return the id of the cohort's last session and of one enrolment."""
    from plugins.training import services
    from plugins.training.schemas import CohortIn, CourseIn, SessionIn

    registry = get_plugin_manager()
    upgrade(database_url, registry)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            if session.scalar(select(func.count()).select_from(Organisation)):
                raise click.ClickException("the database is not empty: give an empty one")
            org = create_organisation(session, "training-bench", "Training bench", ["training"])
            users = {}
            for role, email in ((Role.programme_officer, OFFICER), (Role.case_manager, "case.manager@training.bench")):
                user = User(email=email, name=role.value.replace("_", " ").title(), password_hash=hash_password(PASSWORD))
                session.add(user)
                session.flush()
                session.add(Membership(user_id=user.id, org_id=org.id, role=role))
                users[role] = user.id
            session.commit()

            perms = role_permissions(registry)

            def ctx(role: Role) -> Context:
                current = load_current_user(session, users[role], org.id, perms)
                assert current is not None
                return Context(session, current, registry)

            officer, manager = ctx(Role.programme_officer), ctx(Role.case_manager)
            course = services.save_course(officer, CourseIn(
                trade="electronics_repair", title="Electronics repair", certifying_body="Ministry of Labour", hours=240,
                pass_mark=60, attendance_threshold=75, location="prison", prison="CC1",
            ))
            starts = today - timedelta(days=SESSIONS)
            cohort = services.save_cohort(officer, CohortIn(course_id=course.id, trainer="Chan Sophal", starts_on=starts, ends_on=today + timedelta(days=30), capacity=STUDENTS))
            sessions = [services.add_session(officer, cohort, SessionIn(held_on=starts + timedelta(days=k), topic=f"Lesson {k + 1}")) for k in range(SESSIONS)]
            enrolments = []
            for i in range(STUDENTS):
                person = persons.create_person(manager, PersonIn(name=f"Student {i + 1:02d}"))
                case = cases.create_case(manager, CaseIn(person_id=person.id, case_manager_id=manager.user.id))
                enrolments.append(services.enrol(officer, case, cohort))
            for k, training_session in enumerate(sessions):
                for i, enrolment in enumerate(enrolments):
                    services.mark_attendance(officer, training_session, enrolment, (i + k) % 6 != 0)
            session.commit()
            return sessions[-1].id, enrolments[0].id
    finally:
        engine.dispose()


def line(name: str, times: list[float]) -> str:
    return f"{name:<22} n={len(times):<4} median {ms(statistics.median(times))} ms   p95 {ms(percentile(times, 95))} ms"


@click.command()
@click.option("--database-url", default=None, help="An empty database (default: a temporary SQLite file).")
@click.option("--rounds", default=100, show_default=True, help="Timed requests of each kind.")
@click.option("--warmup", default=5, show_default=True)
def main(database_url: str | None, rounds: int, warmup: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hc-training-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'training.db'}"
        started = time.perf_counter()
        session_id, enrolment_id = build(url, date.today())
        click.echo(f"built {STUDENTS} students x {SESSIONS} sessions on {url.split(':', 1)[0]} in {time.perf_counter() - started:.1f} s")
        app, client = make_client(url, OFFICER, PASSWORD)
        try:
            sheet_url = f"/training/sessions/{session_id}"
            toggle_url = f"{sheet_url}/attendance/{enrolment_id}"
            page = client.get(sheet_url)
            if page.status_code != 200 or page.text.count('<tr id="student-') != STUDENTS:
                raise click.ClickException(f"the attendance page is not what was expected: {page.status_code}")
            sheet: list[float] = []
            toggle: list[float] = []
            for n in range(warmup + rounds):
                t0 = time.perf_counter()
                response = client.get(sheet_url)
                t1 = time.perf_counter()
                form = {"present": "1" if n % 2 else "0", "_csrf_token": client.cookies.get("hc_csrf", "")}
                t2 = time.perf_counter()
                toggled = client.post(toggle_url, data=form, headers={"HX-Request": "true"}, follow_redirects=False)
                t3 = time.perf_counter()
                if response.status_code != 200 or toggled.status_code != 200 or "<tr" not in toggled.text:
                    raise click.ClickException(f"unexpected answer: page {response.status_code}, toggle {toggled.status_code}")
                if n >= warmup:
                    sheet.append(t1 - t0)
                    toggle.append(t3 - t2)
            click.echo(line("attendance page (GET)", sheet))
            click.echo(line("one toggle (htmx POST)", toggle))
        finally:
            client.__exit__(None, None, None)
            app.state.engine.dispose()


if __name__ == "__main__":
    main()
