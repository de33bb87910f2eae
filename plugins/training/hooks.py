"""Hook implementations of the ``training`` module (the entry point's target)."""

from __future__ import annotations

from core.plugin_api import CaseTab, Module, hookimpl, module_events_tab
from core.plugin_api import lazy_gettext as _l

NAME = "training"
LABEL = _l("Training")
tab_route, TAB = module_events_tab(NAME, LABEL, order=10)


@hookimpl
def register_module() -> Module:
    return Module(label=LABEL, description=_l("Vocational courses, attendance, assessment and government-certified certificates."), route_handlers=[tab_route])


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [TAB]
