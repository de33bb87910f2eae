"""Hook implementations of the ledger (an always-on built-in; the entry point's target)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy.orm import Session

from core.plugin_api import Case, CaseTab, MenuItem, Module, Organisation, Permission, Role, User, hookimpl
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


@hookimpl
def register_cli_commands() -> list[click.Command]:
    from ledger.cli import ledger

    return [ledger]


@hookimpl(tryfirst=True)  # modules' demo data posts to the books, funds and accounts made here
def load_demo_data(session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date) -> None:
    from ledger.demo import load

    load(session, organisation, cases, staff, today)
