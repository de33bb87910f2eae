"""The person's copy of their data holds their referrals and meetings; anonymising a case empties
the module's free text about the person and keeps what its figures count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Role
from core.services import persons, privacy
from plugins.community import hooks, services
from plugins.community.models import Attendance, Referral
from plugins.community.schemas import AnswerIn, AttendanceIn, MeetingIn, ReferralIn
from tests.plugins.community.conftest import TODAY


def test_export_and_anonymisation(make_case, make_partner, consent, ctx_for, db: Session) -> None:
    case = make_case("a")
    consent(case)
    partner = make_partner()
    manager, officer = ctx_for(Role.case_manager, "a"), ctx_for(Role.programme_officer, "a")
    referral = services.refer(manager, case, ReferralIn(partner=partner.id, purpose="health", referred_on=TODAY - timedelta(days=9),
                                                        note="Sok Dara needs a TB test"))
    services.answer(manager, referral, AnswerIn(status="declined", on=TODAY, feedback="Sok Dara did not come"))
    meeting = services.plan_meeting(officer, MeetingIn(held_on=TODAY - timedelta(days=2), place="Office", facilitator="Vanna", topic="Work"))
    services.attend(officer, meeting, AttendanceIn(case=case.id, reflection="I sleep at my mother's"))
    db.commit()

    data = privacy.export_person(ctx_for(Role.admin, "a"), persons.get_person(manager, case.person_id))["modules"]["community"]
    assert [(r["partner"], r["status"], r["feedback"]) for r in data["referrals"]] == [("Grace Church", "declined", "Sok Dara did not come")]
    assert [(m["topic"], m["reflection"]) for m in data["meetings_attended"]] == [("Work", "I sleep at my mother's")]
    assert hooks.person_data(ctx_for(Role.admin, "b"), case.person_id) is None  # another organisation holds nothing

    before = services.outcomes(manager, TODAY - timedelta(days=30), TODAY), services.attendance_by_month(manager, TODAY - timedelta(days=40), TODAY)
    hooks.anonymise_case(ctx_for(Role.admin, "a"), case.id)
    db.commit()
    row = db.scalar(select(Referral))
    assert (row.note, row.feedback, row.status, row.purpose) == ("", "", "declined", "health")
    assert db.scalar(select(Attendance.reflection)) == ""
    assert (services.outcomes(manager, TODAY - timedelta(days=30), TODAY), services.attendance_by_month(manager, TODAY - timedelta(days=40), TODAY)) == before
