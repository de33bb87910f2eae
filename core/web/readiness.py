"""The release readiness page: cases due for release and what of their plans is still open."""

from __future__ import annotations

from functools import partial
from typing import Any

import litestar
from litestar import Response
from litestar.params import FromQuery
from litestar.response import Template

from core.context import Context
from core.i18n import gettext as _
from core.models import Role
from core.services import cases, readiness
from core.web.deps import Ctx
from core.web.forms import option_label
from core.web.rendering import render
from core.web.tables import table_download

get = partial(litestar.get, sync_to_thread=True)


def _filters(ctx: Context, days: int, case_manager: str) -> tuple[int, int | None, str]:
    """The window (one of 30/60/90 days) and the case manager: a case manager's own cases unless
    they pick "all" (``case_manager=all``) or someone else."""
    days = days if days in readiness.WINDOWS else readiness.WINDOWS[-1]
    if case_manager.strip().isdecimal():
        return days, int(case_manager), case_manager
    if case_manager == "" and ctx.user.role == Role.case_manager:
        return days, ctx.user.id, str(ctx.user.id)
    return days, None, "all"


@get("/releases", opt={"permission": "cases.view"})
def readiness_page(ctx: Ctx, days: FromQuery[int] = 90, case_manager: FromQuery[str] = "") -> Template:
    """Releases in the next 30/60/90 days (and expected dates passed without a release), each
    with its plan's six areas and the goals still open."""
    days, manager_id, manager_value = _filters(ctx, days, case_manager)
    items = readiness.releases(ctx, days, manager_id)
    return render(
        ctx,
        "releases/readiness.html",
        groups=readiness.by_window(items),
        windows=readiness.WINDOWS,
        areas=readiness.AREAS,
        days=days,
        managers=cases.case_managers(ctx),
        case_manager=manager_value,
        total=len(items),
    )


def _download(ctx: Context, fmt: str, days: int, case_manager: str) -> Response[Any]:
    """The readiness list as CSV or Excel: one row per case, one column per area."""
    days, manager_id, _value = _filters(ctx, days, case_manager)
    items = readiness.releases(ctx, days, manager_id)
    header = [_("Case"), _("Person"), _("Expected release"), _("Days left"), _("Prison"), _("Case manager"),
              *(option_label(a.value) for a in readiness.AREAS), _("Open goals")]
    rows = [
        [item.case_id, item.person_name, item.expected_release, item.days_left, item.prison, item.case_manager_name,
         *(_("Nothing planned yet") if a.state == "none" else option_label(a.state) for a in item.areas),
         "; ".join(f"{option_label(area.value)}: {text}" for area, text in item.open_goals)]
        for item in items
    ]
    return table_download(f"releases-{days}-days-{ctx.today.isoformat()}", header, rows, fmt)


@get("/releases.csv", opt={"permission": "data.export"})
def readiness_csv(ctx: Ctx, days: FromQuery[int] = 90, case_manager: FromQuery[str] = "") -> Response[Any]:
    return _download(ctx, "csv", days, case_manager)


@get("/releases.xlsx", opt={"permission": "data.export"})
def readiness_xlsx(ctx: Ctx, days: FromQuery[int] = 90, case_manager: FromQuery[str] = "") -> Response[Any]:
    return _download(ctx, "xlsx", days, case_manager)


ROUTES = [readiness_page, readiness_csv, readiness_xlsx]
