"""Hook implementations of the ``family_visits`` module (the entry point's target)."""

from __future__ import annotations

from core.plugin_api import CaseTab, Module, hookimpl, module_events_tab
from core.plugin_api import lazy_gettext as _l

NAME = "family_visits"
LABEL = _l("Family visits")
tab_route, TAB = module_events_tab(NAME, LABEL, order=30)


@hookimpl
def register_module() -> Module:
    return Module(label=LABEL, description=_l("Monthly prison-visit subsidies for families."), route_handlers=[tab_route])


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [TAB]
