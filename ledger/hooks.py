"""Hook implementations of the ledger (an always-on built-in; the entry point's target)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy.orm import Session

from core.plugin_api import Breakdown, BreakdownRow, Case, CaseTab, Context, MenuItem, Module, Organisation, Permission, Role, User, hookimpl
from core.plugin_api import lazy_gettext as _l

HERE = Path(__file__).parent
VIEW = "ledger.view"
POST = "ledger.post"
LABEL = _l("Ledger")


@hookimpl
def register_module() -> Module:
    from ledger import finance, pages

    return Module(
        label=LABEL,
        description=_l("The double-entry books every module posts money movements to."),
        migrations=HERE / "migrations",
        route_handlers=[*pages.ROUTES, *finance.ROUTES],
        templates=HERE / "templates",
        always_on=True,
    )


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/ledger", VIEW, order=60)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab("ledger", LABEL, "/ledger/cases/{case_id}", VIEW, order=90)]


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission(VIEW, _l("See the ledger and its audit reports"), frozenset({Role.admin, Role.finance, Role.auditor})),
        Permission(POST, _l("Record and reverse ledger entries, close periods"), frozenset({Role.admin, Role.finance})),
    ]


def spending_rows(ctx: Context, first: date, last: date) -> list[BreakdownRow]:
    """:func:`ledger.reports.spending` as the dashboard's rows: the module's label (the raw
    ``plugin`` metadata when no loaded module has that name) and the fund's code."""
    from ledger.reports import spending

    def module_label(name: str | None) -> str | None:
        loaded = ctx.registry.modules.get(name or "")
        return str(loaded.module.label) if loaded is not None else name

    return [BreakdownRow((module_label(r.plugin), r.fund), r.currency, r.amount) for r in spending(ctx.session, ctx.org_id, first, last)]


@hookimpl
def register_report_breakdowns() -> list[Breakdown]:
    return [
        Breakdown(
            "ledger.spending", _l("Spending by module and fund"), (_l("Module"), _l("Fund")), spending_rows,
            definition=_l("The expense accounts of the general book: what was paid out in the months shown, by the module that "
                          "recorded it and the donor fund it was charged to, in the currency it was paid in. A reversal nets out "
                          "the entry it reverses."),
            order=10,
        )
    ]


@hookimpl
def register_cli_commands() -> list[click.Command]:
    from ledger.cli import ledger

    return [ledger]


@hookimpl(tryfirst=True)  # modules' demo data posts to the books, funds and accounts made here
def load_demo_data(session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date) -> None:
    from ledger.demo import load

    load(session, organisation, cases, staff, today)


@hookimpl
def verify_records(session: Session, organisation: Organisation) -> list[str]:
    """The first broken row of each of the organisation's books, as ``homecoming ledger verify``
    finds it (without recording a check run)."""
    from ledger.check import verify_org

    return [str(b) for b in verify_org(session, organisation)]
