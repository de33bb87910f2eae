"""Hook implementations of the ``grants`` module (the entry point's target)."""

from __future__ import annotations

from core.plugin_api import CaseTab, Module, hookimpl, module_events_tab
from core.plugin_api import lazy_gettext as _l

NAME = "grants"
LABEL = _l("Grants")
tab_route, TAB = module_events_tab(NAME, LABEL, order=20)


@hookimpl
def register_module() -> Module:
    return Module(label=LABEL, description=_l("Small-business grants from plan to survival, with a book for each microbusiness."), route_handlers=[tab_route])


@hookimpl
def register_case_tabs() -> list[CaseTab]:
    return [TAB]
