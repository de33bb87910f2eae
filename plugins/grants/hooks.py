"""Hook implementations of the ``grants`` module (the entry point's target).

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
    ALL_ROLES, Case, CaseTab, Context, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User, case_ids_of, exported_row,
    hookimpl,
)
from core.plugin_api import lazy_gettext as _l
from ledger.api import from_minor
from plugins.grants import routes, services
from plugins.grants.models import Grant, Movement, MonthFigures
from plugins.grants.schemas import ApprovedEvent, MoneyEvent, MonthEvent, PlanEvent, RejectedEvent, WriteOffEvent

NAME = "grants"
HERE = Path(__file__).parent
LABEL = _l("Grants")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Small-business grants from plan to survival, with a book for each microbusiness."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    officers = frozenset({Role.admin, Role.programme_officer})
    return [
        Permission(services.VIEW, _l("See business plans, grants and their businesses"), ALL_ROLES),
        Permission(services.PLAN, _l("Record business plans"), officers | {Role.case_manager}),
        Permission(services.APPROVE, _l("Approve or reject business plans"), officers),
        Permission(services.DISBURSE, _l("Pay grants out, record repayments and write-offs"), frozenset({Role.admin, Role.finance})),
        Permission(services.BUSINESS, _l("Record a business's monthly figures"), officers | {Role.case_manager}),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.PLAN_SUBMITTED, _l("Business plan submitted"), "✎", PlanEvent, permission=services.PLAN),
        EventKind(services.PLAN_REJECTED, _l("Business plan rejected"), "✗", RejectedEvent, permission=services.APPROVE),
        EventKind(services.APPROVED, _l("Grant approved"), "✓", ApprovedEvent, permission=services.APPROVE),
        EventKind(services.TRANCHE_DISBURSED, _l("Grant tranche disbursed"), "$", MoneyEvent, permission=services.DISBURSE),
        EventKind(services.PURCHASE_RECORDED, _l("Purchase in kind for the business"), "⚒", MoneyEvent, permission=services.DISBURSE),
        EventKind(services.REPAYMENT_RECORDED, _l("Grant loan repayment"), "↩", MoneyEvent, permission=services.DISBURSE),
        EventKind(services.WRITTEN_OFF, _l("Grant loan written off"), "⌀", WriteOffEvent, permission=services.DISBURSE),
        EventKind(services.WRITE_OFF_REVERSED, _l("Write-off reversed"), "↺", WriteOffEvent, permission=services.DISBURSE),
        EventKind(services.BUSINESS_MONTH, _l("Business figures of a month"), "▤", MonthEvent, permission=services.BUSINESS),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/grants", services.VIEW, order=45)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/grants/cases/{case_id}/tab", services.VIEW, order=20)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    paid = _l("Grant money paid out, in the grant's currency: tranches and purchases in kind, by the day they were paid.")
    return [
        Indicator("grants.disbursed", _l("Grants disbursed"), services.first_payments_by_month,
                  definition=_l("Grants counted once, in the month of their first payment (a tranche or a purchase in kind)."), order=40),
        Indicator("grants.paid_out_usd", _l("Grant money paid out (USD)"), services.paid_out_by_month("USD"), currency="USD", definition=paid, order=41),
        Indicator("grants.paid_out_khr", _l("Grant money paid out (KHR)"), services.paid_out_by_month("KHR"), currency="KHR", definition=paid, order=42),
    ]


@hookimpl
def load_demo_data(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    services.add_demo_grants(session, organisation, cases, staff, today, context_for)


# --- data protection (docs/privacy.md) -------------------------------------------------------------


@hookimpl
def person_data(ctx: Context, person_id: int) -> dict[str, Any] | None:
    """The person's grant applications with their cost items, tranches, repayment schedule,
    movements and monthly business figures; amounts as decimal strings."""
    case_ids = case_ids_of(ctx, person_id)
    grants = list(ctx.session.scalars(select(Grant).where(Grant.org_id == ctx.org_id, Grant.case_id.in_(case_ids)).order_by(Grant.id))) if case_ids else []
    if not grants:
        return None
    ids = [g.id for g in grants]
    movements = list(ctx.session.scalars(select(Movement).where(Movement.org_id == ctx.org_id, Movement.grant_id.in_(ids)).order_by(Movement.day, Movement.id)))
    months = list(ctx.session.scalars(select(MonthFigures).where(MonthFigures.org_id == ctx.org_id, MonthFigures.grant_id.in_(ids)).order_by(MonthFigures.month)))
    money = {"from_minor": from_minor}
    out = []
    for g in grants:
        out.append({
            **exported_row(g, {"expected_income_minor": g.expected_income_currency, "contribution_minor": g.contribution_currency,
                               "amount_minor": g.currency, "repayable_minor": g.currency}, **money),
            "cost_items": [exported_row(i, {"amount_minor": i.currency}, **money) for i in g.items],
            "tranches": [exported_row(t, {"amount_minor": g.currency}, **money) for t in g.tranches],
            "instalments": [exported_row(i, {"amount_minor": g.currency}, **money) for i in g.instalments],
            "movements": [
                exported_row(m, {"amount_minor": g.currency, "loan_minor": g.currency, "paid_minor": m.paid_currency}, **money)
                for m in movements if m.grant_id == g.id
            ],
            "month_figures": [
                exported_row(f, {c: f.currency for c in ("sales_minor", "costs_minor", "drawings_minor", "stock_minor", "stock_change_minor")}, **money)
                for f in months if f.grant_id == g.id
            ],
        })
    return {"grants": out}


@hookimpl
def anonymise_case(ctx: Context, case_id: int) -> None:
    """The business's description, village and commune, its registration certificate's number
    and the free-text reasons and notes are emptied; business type, district, province, states,
    dates and every amount stay (the ledger is not touched)."""
    grant_ids = select(Grant.id).where(Grant.org_id == ctx.org_id, Grant.case_id == case_id)
    ctx.session.execute(
        update(Grant).where(Grant.id.in_(grant_ids)).values(description="", village="", commune="", certificate_number="", reject_reason="")
    )
    ctx.session.execute(update(Movement).where(Movement.org_id == ctx.org_id, Movement.grant_id.in_(grant_ids)).values(reason="", supplier=""))
    ctx.session.execute(update(MonthFigures).where(MonthFigures.org_id == ctx.org_id, MonthFigures.grant_id.in_(grant_ids)).values(note=""))
