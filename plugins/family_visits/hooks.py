"""Hook implementations of the ``family_visits`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``, and of
the ledger from ``ledger.api``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.plugin_api import (
    ALL_ROLES, Case, CaseTab, Context, DashboardPanel, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User, case_ids_of,
    exported_row, hookimpl,
)
from core.plugin_api import lazy_gettext as _l
from ledger.api import from_minor
from plugins.family_visits import routes, services
from plugins.family_visits.models import PlanMember, Visit, VisitPlan, VisitVisitor
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


# --- data protection (docs/privacy.md) -------------------------------------------------------------


@hookimpl
def person_data(ctx: Context, person_id: int) -> dict[str, Any] | None:
    """The visit plans and visits of the person's cases (with who goes, amounts as decimal
    strings), and the visits the person made, or was paid for, as a family member of another case."""
    case_ids = case_ids_of(ctx, person_id)
    plans = list(ctx.session.scalars(select(VisitPlan).where(VisitPlan.org_id == ctx.org_id, VisitPlan.case_id.in_(case_ids)).order_by(VisitPlan.id))) if case_ids else []
    visits = list(ctx.session.scalars(select(Visit).where(Visit.org_id == ctx.org_id, Visit.case_id.in_(case_ids)).order_by(Visit.visited_on, Visit.id))) if case_ids else []
    as_relative = list(ctx.session.scalars(
        select(Visit).where(
            Visit.org_id == ctx.org_id,
            or_(Visit.paid_to_id == person_id, Visit.id.in_(select(VisitVisitor.visit_id).where(VisitVisitor.person_id == person_id))),
        ).order_by(Visit.visited_on, Visit.id)
    ))
    member_of = list(ctx.session.scalars(select(PlanMember).where(PlanMember.org_id == ctx.org_id, PlanMember.person_id == person_id)))
    if not (plans or visits or as_relative or member_of):
        return None

    def visit_row(v: Visit) -> dict[str, Any]:
        amounts = {c: v.currency for c in ("transport_minor", "food_minor", "accommodation_minor")}
        return {**exported_row(v, amounts, from_minor), "visitors": [m.person_id for m in v.visitors]}

    return {
        "plans": [
            {**exported_row(p, {c: p.currency for c in ("transport_minor", "food_minor", "accommodation_minor")}, from_minor),
             "members": [{"person_id": m.person_id, "relation": m.relation} for m in p.members]}
            for p in plans
        ],
        "visits": [visit_row(v) for v in visits],
        "as_family_member": {
            "plans": [{"plan_id": m.plan_id, "relation": m.relation} for m in member_of],
            "visits": [visit_row(v) for v in as_relative if v.case_id not in case_ids],
        },
    }


@hookimpl
def anonymise_case(ctx: Context, case_id: int) -> None:
    """The family's village and the visits' notes and approval notes are emptied; dates, prisons,
    durations and amounts stay. The family members are persons: core anonymises those known only
    through this person."""
    ctx.session.execute(update(VisitPlan).where(VisitPlan.org_id == ctx.org_id, VisitPlan.case_id == case_id).values(village=""))
    ctx.session.execute(update(Visit).where(Visit.org_id == ctx.org_id, Visit.case_id == case_id).values(notes="", approval_note=""))
