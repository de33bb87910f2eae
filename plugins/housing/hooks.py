"""Hook implementations of the ``housing`` module (the entry point's target)."""

from __future__ import annotations

from core.plugin_api import CaseTab, Module, hookimpl, module_events_tab
from core.plugin_api import lazy_gettext as _l

NAME = "housing"
LABEL = _l("Housing")
tab_route, TAB = module_events_tab(NAME, LABEL, order=40)


@hookimpl
def register_module() -> Module:
    return Module(label=LABEL, description=_l("Repairs to the family home before the person comes back."), route_handlers=[tab_route])


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [TAB]
