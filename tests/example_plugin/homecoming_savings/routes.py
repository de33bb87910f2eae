"""The module's pages: an overview for the menu, and a case's deposits with the form to add one.

Handlers are thin, like core's: read the input, call one service, commit once, then redirect
(post/redirect/get) or re-render the form with field-level messages.
"""

from __future__ import annotations

from typing import Any

import litestar
from litestar import Request, Response
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.plugin_api import ActionRefused, Case, Context, Ctx, Form, InvalidInput, get_case, parse, render
from homecoming_savings import services
from homecoming_savings.models import CURRENCIES
from homecoming_savings.schemas import DepositIn

@litestar.get("/savings", opt={"permission": services.VIEW}, sync_to_thread=True, name="savings-overview")
def overview(ctx: Ctx) -> Template:
    """The organisation's totals and latest deposits."""
    return render(ctx, "savings/overview.html", totals=services.totals(ctx), rows=services.recent(ctx))


def _case_page(request: Request[Any, Any, Any], ctx: Context, case: Case, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    context = {
        "case": case,
        "deposits": services.deposits_of(ctx, case),
        "totals": services.totals(ctx, case),
        "currencies": [(c, c) for c in CURRENCIES],
        "can_record": ctx.user.can(services.RECORD),
        "values": values,
        "errors": errors,
    }
    if request.htmx and status_code == 200:  # type: ignore[attr-defined]
        return Template("savings/_case.html", context=context)  # loaded into the case page's tab
    return render(ctx, "savings/case.html", status_code, **context)


@litestar.get("/savings/cases/{case_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="savings-case")
def case_deposits(request: Request[Any, Any, Any], ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case tab: deposits, totals and (for those who may) the form to record one."""
    case = get_case(ctx, case_id)
    return _case_page(request, ctx, case, {"deposited_on": ctx.today.isoformat(), "currency": "USD"}, {})


@litestar.post(
    "/savings/cases/{case_id:int}/deposits",
    opt={"permission": services.RECORD},
    sync_to_thread=True,
    status_code=303,
    name="savings-record",
)
def deposit_create(request: Request[Any, Any, Any], ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Record a deposit and its timeline event in one transaction, or show the form's errors."""
    case = get_case(ctx, case_id)
    try:
        services.record_deposit(ctx, case, parse(DepositIn, data))
    except (InvalidInput, ActionRefused) as exc:
        ctx.session.rollback()
        errors = exc.errors
        return _case_page(request, ctx, get_case(ctx, case_id), data, errors, 422)
    ctx.session.commit()
    return Redirect(f"/savings/cases/{case.id}", status_code=303)


ROUTES = [overview, case_deposits, deposit_create]
