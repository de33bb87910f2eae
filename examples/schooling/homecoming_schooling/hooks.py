"""Hook implementations of the ``schooling`` module (the entry point's target).

Everything of core here and in the module's other files comes from ``core.plugin_api``, and of
the ledger from ``ledger.api`` (``tests/test_schooling_imports.py`` holds it to that).
"""

from __future__ import annotations

from pathlib import Path

from core.plugin_api import ALL_ROLES, CaseTab, EventKind, Indicator, MenuItem, Module, Permission, Role, hookimpl
from core.plugin_api import lazy_gettext as _l
from homecoming_schooling import routes, services
from homecoming_schooling.schemas import EnrolledEvent, FeePaidEvent

NAME = services.NAME
HERE = Path(__file__).parent
LABEL = _l("Schooling")


@hookimpl
def register_module() -> Module:
    return Module(
        label=LABEL,
        description=_l("School enrolment of prisoners' children and their school fees, paid through the ledger."),
        route_handlers=routes.ROUTES,
        templates=HERE / "templates",
        migrations=HERE / "migrations",
        locale=HERE / "locale",
    )


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission(services.VIEW, _l("See children's school enrolments and fees"), ALL_ROLES),
        Permission(services.MANAGE, _l("Enrol children at school and pay their fees"),
                   frozenset({Role.admin, Role.programme_officer, Role.case_manager, Role.finance})),
        Permission(services.SETTINGS, _l("Set the accounts school fees are paid from"), frozenset({Role.admin})),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind(services.ENROLLED, _l("Child enrolled at school"), "✎", EnrolledEvent, permission=services.MANAGE),
        EventKind(services.FEE_PAID, _l("School fees paid"), "¤", FeePaidEvent, permission=services.MANAGE),
        EventKind(services.FEE_REVERSED, _l("School fees payment reversed"), "↺", FeePaidEvent, permission=services.MANAGE),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [MenuItem(LABEL, "/schooling", services.VIEW, order=60)]


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [CaseTab(NAME, LABEL, "/schooling/cases/{case_id}/tab", services.VIEW, order=60)]


@hookimpl
def register_report_indicators() -> list[Indicator]:
    return [
        Indicator("schooling.enrolled", _l("Children enrolled at school"), services.enrolled_by_month,
                  definition=_l("Children of participants enrolled at a school with the programme's support, by the day of enrolment."),
                  order=60),
    ]
