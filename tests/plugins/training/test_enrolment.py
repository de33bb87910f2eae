"""Enrolling a case into a cohort (and each refusal), dropping out, the case tab."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Case, CaseStatus, Event, Role
from core.schemas import CaseIn
from core.services import cases as core_cases
from plugins.training.models import Cohort, Enrolment
from tests.conftest import post_form


def _enrolments(db: Session) -> list[Enrolment]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(Enrolment).order_by(Enrolment.id)))


def _events(db: Session, case: Case, kind: str) -> list[Event]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(Event).where(Event.case_id == case.id, Event.kind == kind)))


def _enrol(client, case: Case, cohort: Cohort):  # noqa: ANN001, ANN202
    return post_form(client, f"/training/cases/{case.id}/enrolments", {"cohort_id": cohort.id})


def test_case_manager_enrols_a_case_with_a_timeline_event(client_for, make_case, make_cohort, db: Session) -> None:
    case, cohort = make_case("a"), make_cohort("a")
    client = client_for(Role.case_manager, "a")
    tab = client.get(f"/training/cases/{case.id}/tab", headers={"HX-Request": "true"})
    assert tab.status_code == 200 and "<html" not in tab.text and 'id="enrol"' in tab.text and "Motorbike repair" in tab.text
    response = _enrol(client, case, cohort)
    assert response.status_code == 303 and response.headers["location"] == f"/training/cases/{case.id}/tab"
    (enrolment,) = _enrolments(db)
    assert (enrolment.org_id, enrolment.case_id, enrolment.cohort_id, enrolment.status) == (case.org_id, case.id, cohort.id, "enrolled")
    (event,) = _events(db, case, "training.enrolled")
    assert event.payload["enrolment_id"] == enrolment.id and event.payload["course"] == "Motorbike repair"
    page = client.get(f"/cases/{case.id}").text
    assert 'data-tab="training"' in page and "Enrolled in a course" in page
    assert f'data-enrolment="{enrolment.id}"' in client.get(f"/training/cases/{case.id}/tab").text
    assert "1 / 10" in client.get("/training").text  # places taken on the overview


def test_a_full_cohort_refuses_with_a_message(client_for, make_case, make_cohort, db: Session) -> None:
    cohort = make_cohort("a", capacity=1)
    first, second = make_case("a", "Sok Dara"), make_case("a", "Keo Sina")
    client = client_for(Role.case_manager, "a")
    assert _enrol(client, first, cohort).status_code == 303
    response = _enrol(client, second, cohort)
    assert response.status_code == 422 and "This cohort is full: all 1 places are taken." in response.text
    assert len(_enrolments(db)) == 1 and _events(db, second, "training.enrolled") == []


def test_the_same_person_cannot_enrol_twice_even_through_another_case(client_for, make_case, make_cohort, ctx_for, db: Session) -> None:
    cohort = make_cohort("a")
    case = make_case("a")
    ctx = ctx_for(Role.case_manager, "a")
    other_case = core_cases.create_case(ctx, CaseIn(person_id=case.person_id, case_manager_id=ctx.user.id))
    db.commit()
    client = client_for(Role.case_manager, "a")
    assert _enrol(client, case, cohort).status_code == 303
    for again in (case, other_case):
        response = _enrol(client, again, cohort)
        assert response.status_code == 422 and "This person is already enrolled in this cohort." in response.text
    assert len(_enrolments(db)) == 1


def test_a_closed_case_cannot_be_enrolled(client_for, make_case, make_cohort, db: Session) -> None:
    cohort, case = make_cohort("a"), make_case("a")
    case.status = CaseStatus.closed
    db.commit()
    response = _enrol(client_for(Role.case_manager, "a"), case, cohort)
    assert response.status_code == 422 and "This case is closed" in response.text
    assert _enrolments(db) == []


def test_enrolment_is_scoped_to_the_organisation(client_for, make_case, make_cohort, db: Session) -> None:
    cohort_a, case_a, case_b = make_cohort("a"), make_case("a"), make_case("b")
    client_b = client_for(Role.case_manager, "b")
    response = _enrol(client_b, case_b, cohort_a)  # a's cohort from b
    assert response.status_code == 422 and "Choose one of the options." in response.text
    assert _enrol(client_b, case_a, cohort_a).status_code == 404  # a's case from b
    assert client_b.get(f"/training/cases/{case_a.id}/tab").status_code == 404
    assert _enrolments(db) == []
    assert _enrol(client_for(Role.viewer, "a"), case_a, cohort_a).status_code == 403


def test_drop_out_with_a_reason_frees_the_place(client_for, make_case, make_cohort, db: Session) -> None:
    cohort = make_cohort("a", capacity=1)
    case, next_case = make_case("a", "Sok Dara"), make_case("a", "Keo Sina")
    client = client_for(Role.case_manager, "a")
    _enrol(client, case, cohort)
    (enrolment,) = _enrolments(db)
    response = post_form(client, f"/training/enrolments/{enrolment.id}/drop-out", {"reason": "", "dropped_on": ""})
    assert response.status_code == 422 and "This field is required." in response.text
    today = date.today().isoformat()
    response = post_form(client, f"/training/enrolments/{enrolment.id}/drop-out", {"reason": "found_work", "dropped_on": today, "note": "Works at a garage"})
    assert response.status_code == 303
    (enrolment,) = _enrolments(db)
    assert (enrolment.status, enrolment.drop_reason, enrolment.drop_note) == ("dropped_out", "found_work", "Works at a garage")
    (event,) = _events(db, case, "training.dropped_out")
    assert event.payload["reason"] == "found_work" and event.summary == "Works at a garage"
    assert "Found work" in client.get(f"/training/cases/{case.id}/tab").text
    again = post_form(client, f"/training/enrolments/{enrolment.id}/drop-out", {"reason": "health", "dropped_on": today})
    assert again.status_code == 422 and "Only a student still enrolled can drop out." in again.text
    assert _enrol(client, next_case, cohort).status_code == 303  # the place is free again


def test_a_cohort_id_beyond_any_row_is_refused_at_its_field(client_for, make_case, db: Session) -> None:
    """A cohort id larger than a 64-bit integer reached SQLite and was a 500. Found by tests/fuzz
    (docs/security.md, "Bad input")."""
    case = make_case("a")
    response = post_form(client_for(Role.case_manager, "a"), f"/training/cases/{case.id}/enrolments", {"cohort_id": "9" * 30})
    assert response.status_code == 422 and 'id="e-cohort_id"' in response.text
    assert _enrolments(db) == []
