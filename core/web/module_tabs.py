"""A ready-made case tab for a module: the case's timeline events of that module."""

from __future__ import annotations

from typing import Any

import litestar
from litestar import Request
from litestar.params import FromPath
from litestar.response import Template

from core.contributions import CaseTab
from core.services import cases, events
from core.web.deps import Ctx
from core.web.rendering import render


def module_events_tab(module: str, label: str, order: int = 100) -> tuple[Any, CaseTab]:
    """A route handler and the :class:`CaseTab` that shows it, for a module's own case tab.

    The tab lists the case's ``<module>.*`` events, newest first. Return the handler from the
    module's ``register_module`` (in ``route_handlers``) and the tab from ``register_case_tabs``.
    """
    path = f"/{module}/cases/{{case_id:int}}/tab"

    @litestar.get(path, opt={"permission": "cases.view"}, sync_to_thread=True, name=f"{module}-case-tab")
    def tab(request: Request[Any, Any, Any], ctx: Ctx, case_id: FromPath[int]) -> Template:
        case = cases.get_case(ctx, case_id)
        rows, has_more = events.timeline(ctx, case, prefix=module, limit=200)
        context = {"case": case, "timeline": rows, "has_more": False, "page": 1, "kind": "", "kinds": ctx.registry.event_kinds, "label": label}
        if request.htmx:  # type: ignore[attr-defined]
            return Template("_module_tab.html", context=context)
        return render(ctx, "module_tab.html", **context)

    return tab, CaseTab(key=module, label=label, url=f"/{module}/cases/{{case_id}}/tab", permission="cases.view", order=order)
