"""Hook implementations of the ``savings`` module (the entry point's target).

Everything here comes from ``core.plugin_api``; nothing else of core is imported, by this file
or by any other of the module.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from core.plugin_api import ALL_ROLES, Case, CaseTab, EventKind, MenuItem, Module, Organisation, Permission, Role, User, hookimpl
from core.plugin_api import lazy_gettext as _l
from homecoming_savings import routes, services
from homecoming_savings.schemas import DepositEvent

HERE = Path(__file__).parent
LABEL = _l("Savings")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("Participants' savings deposits, in US dollars or riel."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission(services.VIEW, _l("See savings deposits"), ALL_ROLES),
        Permission(services.RECORD, _l("Record savings deposits"), frozenset({Role.admin, Role.case_manager})),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [EventKind(services.EVENT_KIND, _l("Savings deposit"), "¤", DepositEvent, permission=services.RECORD)]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/savings", services.VIEW, order=50)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab("savings", LABEL, "/savings/cases/{case_id}", services.VIEW, order=50)]


@hookimpl
def load_demo_data(session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date) -> None:
    services.add_demo_deposits(session, organisation, cases, staff, today)
