"""Hook implementations of the ``grants`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``, and of
the ledger from ``ledger.api``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from core.plugin_api import ALL_ROLES, Case, CaseTab, Context, EventKind, Indicator, MenuItem, Module, Organisation, Permission, Role, User, hookimpl
from core.plugin_api import lazy_gettext as _l
from plugins.grants import routes, services
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
