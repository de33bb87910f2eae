"""Hook implementations of the ``release_support`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``, and of
the ledger from ``ledger.api``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.plugin_api import (
    ALL_ROLES, Case, CaseTab, Context, DashboardPanel, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User, case_ids_of,
    exported_row, hookimpl,
)
from core.plugin_api import lazy_gettext as _l
from ledger.api import from_minor
from plugins.release_support import routes, services
from plugins.release_support.models import ChecklistStep, ReleaseRecord
from plugins.release_support.schemas import ReversalEvent, StepEvent, SupportEvent

NAME = services.NAME
HERE = Path(__file__).parent
LABEL = _l("Release support")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Support at the gate: fare home, food, a night's stay and a starter pack on the day of release."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission(services.VIEW, _l("See release-day support, the checklists and the stock"), ALL_ROLES),
        Permission(services.RECORD, _l("Record release-day support and tick the release-day checklist"),
                   frozenset({Role.admin, Role.programme_officer, Role.case_manager})),
        Permission(services.STOCK, _l("Manage the starter-pack stock: items and receipts"), frozenset({Role.admin, Role.programme_officer, Role.finance})),
        Permission(services.CORRECT, _l("Reverse a release-day record"), frozenset({Role.admin, Role.finance})),
        Permission(services.SETTINGS, _l("Set the release-support fund, accounts, amounts and ceilings"), frozenset({Role.admin})),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.SUPPORT_GIVEN, _l("Support given at release"), "⛟", SupportEvent, permission=services.RECORD),
        EventKind(services.SUPPORT_REVERSED, _l("Release support reversed"), "↺", ReversalEvent, permission=services.CORRECT),
        EventKind(services.COLLECTED, _l("Collected from the prison"), "⇥", StepEvent, permission=services.RECORD),
        EventKind(services.REACHED_HOME, _l("Reached home"), "⌂", StepEvent, permission=services.RECORD),
        EventKind(services.DOCUMENT_IN_HAND, _l("Document in hand"), "▤", StepEvent, permission=services.RECORD),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/release-support", services.VIEW, order=55)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/release-support/cases/{case_id}/tab", services.VIEW, order=35)]


@hookimpl
def register_dashboard_panels() -> list[DashboardPanel]:
    return [DashboardPanel("release_support_low_stock", services.VIEW, services.dashboard_panel, order=45)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    return [
        Indicator("release_support.supported", _l("People supported at release"), services.supported_by_month,
                  definition=_l("People given support on the day of release, each counted once, in the month of their first "
                                "release-day record that was not reversed."), order=20),
    ]


@hookimpl
def load_demo_data(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    services.add_demo_support(session, organisation, cases, staff, today, context_for)


# --- data protection (docs/privacy.md) -------------------------------------------------------------


@hookimpl
def person_data(ctx: Context, person_id: int) -> dict[str, Any] | None:
    """What the person was given at release (money as decimal strings, the pack's items) and the
    release checklist of their cases."""
    case_ids = case_ids_of(ctx, person_id)
    if not case_ids:
        return None
    records = list(ctx.session.scalars(
        select(ReleaseRecord).where(ReleaseRecord.org_id == ctx.org_id, ReleaseRecord.case_id.in_(case_ids)).order_by(ReleaseRecord.id)
    ))
    steps = list(ctx.session.scalars(
        select(ChecklistStep).where(ChecklistStep.org_id == ctx.org_id, ChecklistStep.case_id.in_(case_ids)).order_by(ChecklistStep.id)
    ))
    if not (records or steps):
        return None
    return {
        "release_records": [
            {**exported_row(r, {c: r.currency for c in ("fare_minor", "food_minor", "night_rate_minor")}, from_minor),
             "lines": [exported_row(line, {"cost_minor": line.currency}, from_minor) for line in r.lines]}
            for r in records
        ],
        "checklist": [exported_row(s) for s in steps],
    }


@hookimpl
def anonymise_case(ctx: Context, case_id: int) -> None:
    """The notes and reversal reasons of what was given, and the checklist's details (who
    collected, a document's number), are emptied; dates, steps, items and amounts stay."""
    ctx.session.execute(
        update(ReleaseRecord).where(ReleaseRecord.org_id == ctx.org_id, ReleaseRecord.case_id == case_id).values(notes="", reversal_reason="")
    )
    ctx.session.execute(update(ChecklistStep).where(ChecklistStep.org_id == ctx.org_id, ChecklistStep.case_id == case_id).values(detail=""))
