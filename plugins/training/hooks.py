"""Hook implementations of the ``training`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.plugin_api import (
    ALL_ROLES, Case, CaseTab, Context, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User, anonymised_name, case_ids_of,
    exported_row, hookimpl,
)
from core.plugin_api import lazy_gettext as _l
from plugins.training import routes, services
from plugins.training.models import Attendance, Certificate, Enrolment, TrainingSession
from plugins.training.schemas import CertifiedEvent, CompletedEvent, DroppedOutEvent, EnrolledEvent

NAME = "training"
HERE = Path(__file__).parent
LABEL = _l("Training")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Vocational courses, attendance, assessment and government-certified certificates."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    officers = frozenset({Role.admin, Role.programme_officer})
    return [
        Permission(services.VIEW, _l("See courses, cohorts and certificates"), ALL_ROLES),
        Permission(services.MANAGE, _l("Keep the catalogue of courses and cohorts"), officers),
        Permission(services.RECORD, _l("Enrol students, take attendance and record results"), officers | {Role.case_manager}),
        Permission(services.CERTIFY, _l("Issue training certificates"), officers),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.ENROLLED, _l("Enrolled in a course"), "✎", EnrolledEvent, permission=services.RECORD),
        EventKind(services.DROPPED_OUT, _l("Dropped out of a course"), "✗", DroppedOutEvent, permission=services.RECORD),
        EventKind(services.COMPLETED, _l("Completed a course"), "✓", CompletedEvent, permission=services.CERTIFY),
        EventKind(services.CERTIFIED, _l("Certified"), "★", CertifiedEvent, permission=services.CERTIFY),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/training", services.VIEW, order=40)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/training/cases/{case_id}/tab", services.VIEW, order=10)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    return [
        Indicator("training.certificates", _l("Certificates issued"), services.certificates_by_month,
                  definition=_l("Training certificates issued, by their date of issue."), order=30),
    ]


@hookimpl
def load_demo_data(session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date) -> None:
    services.add_demo_training(session, organisation, cases, staff, today)


# --- data protection (docs/privacy.md) -------------------------------------------------------------


@hookimpl
def person_data(ctx: Context, person_id: int) -> dict[str, Any] | None:
    """The person's enrolments (with their cohort's course and dates), attendance and certificates."""
    case_ids = case_ids_of(ctx, person_id)
    if not case_ids:
        return None
    enrolments = list(ctx.session.scalars(
        select(Enrolment).where(Enrolment.org_id == ctx.org_id, Enrolment.case_id.in_(case_ids)).order_by(Enrolment.id)
    ))
    if not enrolments:
        return None
    ids = [e.id for e in enrolments]
    attendance = ctx.session.execute(
        select(Attendance.enrolment_id, TrainingSession.held_on, Attendance.present)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(Attendance.org_id == ctx.org_id, Attendance.enrolment_id.in_(ids))
        .order_by(TrainingSession.held_on)
    ).all()
    certificates = list(ctx.session.scalars(select(Certificate).where(Certificate.org_id == ctx.org_id, Certificate.enrolment_id.in_(ids))))
    return {
        "enrolments": [
            {
                **exported_row(e),
                "course": e.cohort.course.title,
                "cohort": {"starts_on": e.cohort.starts_on.isoformat(), "ends_on": e.cohort.ends_on.isoformat()},
                "attendance": [{"held_on": held.isoformat(), "present": present} for eid, held, present in attendance if eid == e.id],
            }
            for e in enrolments
        ],
        "certificates": [exported_row(c, exclude=("org_id", "verification_code")) for c in certificates],
    }


@hookimpl
def anonymise_case(ctx: Context, case_id: int) -> None:
    """The drop-out notes are emptied and the certificates' holder name becomes the anonymised
    name (a check of the certificate still finds it, without the name); scores, dates and
    outcomes stay."""
    enrolment_ids = select(Enrolment.id).where(Enrolment.org_id == ctx.org_id, Enrolment.case_id == case_id)
    ctx.session.execute(update(Enrolment).where(Enrolment.id.in_(enrolment_ids)).values(drop_note=""))
    person_id = ctx.session.scalar(select(Case.person_id).where(Case.id == case_id, Case.org_id == ctx.org_id))
    if person_id is not None:
        ctx.session.execute(
            update(Certificate).where(Certificate.org_id == ctx.org_id, Certificate.enrolment_id.in_(enrolment_ids))
            .values(holder_name=anonymised_name(person_id))
        )
