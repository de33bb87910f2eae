"""Hook implementations of the ``family_visits`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``, and of
the ledger from ``ledger.api``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from core.plugin_api import ALL_ROLES, Case, CaseTab, Context, DashboardPanel, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User, hookimpl
from core.plugin_api import lazy_gettext as _l
from plugins.family_visits import routes, services
from plugins.family_visits.schemas import PlanEvent, VisitEvent

NAME = services.NAME
HERE = Path(__file__).parent
LABEL = _l("Family visits")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Monthly prison-visit subsidies for families."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    officers = frozenset({Role.admin, Role.programme_officer})
    return [
        Permission(services.VIEW, _l("See visit plans, visits made and missed, and the visit reports"), ALL_ROLES),
        Permission(services.PLAN, _l("Set up family visit plans"), officers | {Role.case_manager}),
        Permission(services.RECORD, _l("Record family visits and pay their subsidies"), officers | {Role.case_manager, Role.finance}),
        Permission(services.FINANCE, _l("See the monthly subsidy sheets"), frozenset({Role.admin, Role.finance, Role.auditor})),
        Permission(services.SETTINGS, _l("Set the family visit fund and limits"), frozenset({Role.admin})),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.PLAN_SET, _l("Family visit plan set"), "⌂", PlanEvent, permission=services.PLAN),
        EventKind(services.VISIT_RECORDED, _l("Family visit"), "♥", VisitEvent, permission=services.RECORD),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/family-visits", services.VIEW, order=50)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/family-visits/cases/{case_id}/tab", services.VIEW, order=30)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [DashboardPanel("family_visits_due", services.VIEW, services.dashboard_panel, order=40)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    return [
        Indicator("family_visits.subsidised", _l("Family visits subsidised"), services.subsidised_by_month,
                  definition=_l("Prison visits by family members whose subsidy was paid, by the day of the visit."), order=50),
    ]


@hookimpl
def load_demo_data(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    services.add_demo_visits(session, organisation, cases, staff, today, context_for)
