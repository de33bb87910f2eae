"""Hook implementations of the ``housing`` module (the entry point's target).

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
from plugins.housing import routes, services
from plugins.housing.schemas import AssessedEvent, CancelledEvent, CompletedEvent, PaymentEvent, ProgressEvent, QuoteEvent, RepairEvent

NAME = services.NAME
HERE = Path(__file__).parent
LABEL = _l("Housing")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Repairs to the family home before the person comes back."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    officers = frozenset({Role.admin, Role.programme_officer})
    return [
        Permission(services.VIEW, _l("See housing assessments, repairs, quotes, payments and their reports"), ALL_ROLES),
        Permission(services.ASSESS, _l("Assess family homes, propose repairs, add quotes and record progress and sign-off"),
                   officers | {Role.case_manager}),
        Permission(services.APPROVE, _l("Approve housing repair quotes or send them back"), officers),
        Permission(services.PAY, _l("Pay housing repair suppliers and reverse payments"), frozenset({Role.admin, Role.finance})),
        Permission(services.SETTINGS, _l("Set the housing fund, ceiling per home and accounts"), frozenset({Role.admin})),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.ASSESSED, _l("Home assessed"), "⌂", AssessedEvent, permission=services.ASSESS),
        EventKind(services.REPAIR_PROPOSED, _l("Home repair proposed"), "⚒", RepairEvent, permission=services.ASSESS),
        EventKind(services.QUOTE_RECEIVED, _l("Repair quote received"), "✉", QuoteEvent, permission=services.ASSESS),
        EventKind(services.QUOTE_APPROVED, _l("Repair quote approved"), "✓", QuoteEvent, permission=services.APPROVE),
        EventKind(services.QUOTE_SENT_BACK, _l("Repair quote sent back"), "↩", QuoteEvent, permission=services.APPROVE),
        EventKind(services.PAYMENT_MADE, _l("Repair supplier paid"), "$", PaymentEvent, permission=services.PAY),
        EventKind(services.PAYMENT_REVERSED, _l("Repair payment reversed"), "↺", PaymentEvent, permission=services.PAY),
        EventKind(services.PROGRESS, _l("Repair progress"), "…", ProgressEvent, permission=services.ASSESS),
        EventKind(services.COMPLETED, _l("Repair completed"), "★", CompletedEvent, permission=services.ASSESS),
        EventKind(services.CANCELLED, _l("Repair cancelled"), "✗", CancelledEvent, permission=services.ASSESS),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/housing", services.VIEW, order=60)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/housing/cases/{case_id}/tab", services.VIEW, order=40)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [DashboardPanel("housing_overdue", services.VIEW, services.dashboard_panel, order=45)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    return [
        Indicator("housing.repairs_completed", _l("Housing repairs completed"), services.completed_by_month,
                  definition=_l("Repairs of family homes completed and signed off by the family, by the day of completion."), order=60),
    ]


@hookimpl
def load_demo_data(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    services.add_demo_repairs(session, organisation, cases, staff, today, context_for)
