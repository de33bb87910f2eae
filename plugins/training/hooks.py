"""Hook implementations of the ``training`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from core.plugin_api import ALL_ROLES, Case, CaseTab, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User, hookimpl
from core.plugin_api import lazy_gettext as _l
from plugins.training import routes, services
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
