"""The catalogue: courses and cohorts, kept by programme officers, seen by everyone in the
organisation, invisible to other organisations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Role
from plugins.training.models import Cohort, Course, TrainingSession
from tests.conftest import post_form

COURSE = {
    "title": "Motorbike repair", "trade": "motor_mechanics", "certifying_body": "Ministry of Labour and Vocational Training",
    "hours": "240", "pass_mark": "60", "attendance_threshold": "80", "location": "prison", "prison": "CC1",
}


def _all(db: Session, model: type) -> list:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(model).order_by(model.id)))


def test_programme_officer_creates_and_edits_a_course_and_a_cohort(client_for, db: Session) -> None:
    client = client_for(Role.programme_officer, "b")
    assert client.get("/training/courses/new").status_code == 200
    response = post_form(client, "/training/courses", COURSE)
    assert response.status_code == 303, response.text
    (course,) = _all(db, Course)
    assert (course.title, course.hours, course.pass_mark, course.attendance_threshold, course.location, course.prison) == ("Motorbike repair", 240, 60, 80, "prison", "CC1")

    response = post_form(client, f"/training/courses/{course.id}", {**COURSE, "location": "community", "hours": "300"})
    assert response.status_code == 303
    (course,) = _all(db, Course)
    assert (course.hours, course.location, course.prison) == (300, "community", None)

    start = date.today()
    cohort_form = {"course_id": course.id, "trainer": "Chan Sophal", "starts_on": start.isoformat(), "ends_on": (start + timedelta(days=60)).isoformat(), "capacity": "12"}
    response = post_form(client, "/training/cohorts", cohort_form)
    assert response.status_code == 303
    (cohort,) = _all(db, Cohort)
    assert response.headers["location"] == f"/training/cohorts/{cohort.id}"
    assert post_form(client, f"/training/cohorts/{cohort.id}", {**cohort_form, "capacity": "15"}).status_code == 303
    assert _all(db, Cohort)[0].capacity == 15

    response = post_form(client, f"/training/cohorts/{cohort.id}/sessions", {"held_on": start.isoformat(), "topic": "Engines"})
    assert response.status_code == 303
    (session,) = _all(db, TrainingSession)
    assert (session.cohort_id, session.topic) == (cohort.id, "Engines")
    page = client.get(f"/training/cohorts/{cohort.id}").text
    assert "Chan Sophal" in page and "Engines" in page and f'href="/training/sessions/{session.id}"' in page

    overview = client_for(Role.viewer, "b").get("/training")
    assert overview.status_code == 200 and "Motorbike repair" in overview.text and "/training/cohorts/new" not in overview.text


def test_course_fields_are_validated_one_by_one(client_for, db: Session) -> None:
    client = client_for(Role.programme_officer, "a")
    bad = {**COURSE, "title": "", "trade": "juggling", "hours": "0", "pass_mark": "101", "attendance_threshold": "x", "prison": ""}
    response = post_form(client, "/training/courses", bad)
    assert response.status_code == 422
    text = response.text
    assert "This field is required." in text  # title
    assert "Choose one of the options." in text  # trade
    assert "Enter a number of hours between 1 and 5000." in text
    assert "Enter a percentage between 0 and 100." in text
    assert "Enter a whole number." in text
    assert "Name the prison where the course runs." in text
    assert 'value="Ministry of Labour and Vocational Training"' in text  # the form keeps what was typed
    assert _all(db, Course) == []


def test_cohort_fields_are_validated(client_for, make_cohort: Callable[..., Cohort], db: Session) -> None:
    cohort = make_cohort("a", capacity=5)
    client = client_for(Role.programme_officer, "a")
    start = date.today()
    response = post_form(client, "/training/cohorts", {"course_id": cohort.course_id, "trainer": "", "starts_on": start.isoformat(), "ends_on": (start - timedelta(days=1)).isoformat(), "capacity": "0"})
    assert response.status_code == 422
    assert "The end date cannot be before the start date." in response.text
    assert "Enter a number of places between 1 and 500." in response.text
    response = post_form(client, f"/training/cohorts/{cohort.id}/sessions", {"held_on": (cohort.ends_on + timedelta(days=1)).isoformat()})
    assert response.status_code == 422 and "The session must fall between the cohort" in response.text
    assert len(_all(db, Cohort)) == 1


def test_only_programme_officers_and_admins_keep_the_catalogue(client_for, make_cohort: Callable[..., Cohort], db: Session) -> None:
    cohort = make_cohort("a")
    for role in (Role.case_manager, Role.viewer):
        client = client_for(role, "a")
        assert client.get("/training").status_code == 200
        assert client.get(f"/training/cohorts/{cohort.id}").status_code == 200
        assert client.get("/training/courses/new").status_code == 403
        assert post_form(client, "/training/courses", COURSE).status_code == 403
        assert post_form(client, f"/training/cohorts/{cohort.id}/sessions", {"held_on": date.today().isoformat()}).status_code == 403
    assert len(_all(db, Course)) == 1


def test_other_organisations_ids_answer_404(client_for, make_cohort: Callable[..., Cohort], db: Session) -> None:
    cohort = make_cohort("a")
    session = _all(db, TrainingSession)[0]
    client = client_for(Role.admin, "b")
    for url in (f"/training/cohorts/{cohort.id}", f"/training/cohorts/{cohort.id}/edit", f"/training/courses/{cohort.course_id}/edit", f"/training/sessions/{session.id}"):
        assert client.get(url).status_code == 404, url
    assert post_form(client, f"/training/courses/{cohort.course_id}", COURSE).status_code == 404
    assert post_form(client, f"/training/cohorts/{cohort.id}/sessions", {"held_on": date.today().isoformat()}).status_code == 404
    # Nor can b's cohort use a's course.
    response = post_form(client, "/training/cohorts", {"course_id": cohort.course_id, "trainer": "X", "starts_on": "2026-01-01", "ends_on": "2026-02-01", "capacity": "5"})
    assert response.status_code == 422 and "Choose one of the options." in response.text
    assert "Motorbike repair" not in client.get("/training").text
    assert _all(db, Course)[0].title == "Motorbike repair"
