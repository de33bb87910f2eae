"""The module's pages: the overview of enrolments (the menu's), a case's schooling page with the
enrolment and payment forms, the case tab, reversing a payment, and the module's settings.

Handlers are thin, like the built-in modules': read the input, call one service, commit once,
then redirect (post/redirect/get) or re-render the page with field-level messages (422) after a
rollback, through ``act``. Every form works without JavaScript.
"""

from __future__ import annotations

from typing import Any, get_args

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.plugin_api import Case, CaseStatus, Context, Ctx, Form, act, get_case, parse, render
from core.plugin_api import gettext as _
from homecoming_schooling import services
from homecoming_schooling.schemas import LABELS, Currency, EnrolIn, FeePeriod, PaymentIn, ReverseIn, SettingsIn

AnyRequest = Request[Any, Any, Any]


@litestar.get("/schooling", opt={"permission": services.VIEW}, sync_to_thread=True, name="schooling-overview")
def overview(ctx: Ctx) -> Template:
    """Every enrolment of the organisation, latest school year first."""
    return render(ctx, "schooling/overview.html", rows=services.overview(ctx), money=services.money, labels=LABELS,
                  can_settings=ctx.user.can(services.SETTINGS))


def _tab_context(ctx: Context, case: Case) -> dict[str, Any]:
    rows = services.case_rows(ctx, case)
    payments = services.payments_of(ctx, case)
    enrolments = {r.enrolment.id: r for r in rows}
    return {
        "case": case, "rows": rows, "payments": payments, "enrolments": enrolments, "totals": services.totals(rows),
        "money": services.money, "labels": LABELS, "can_manage": ctx.user.can(services.MANAGE),
        "closed": case.status == CaseStatus.closed,
    }


def _case_page(ctx: Context, case: Case, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               form: str = "", status_code: int = 200) -> Template:
    context = _tab_context(ctx, case)
    defaults = {"enrolled_on": ctx.today.isoformat(), "paid_on": ctx.today.isoformat(), "reversed_on": ctx.today.isoformat(),
                "currency": "USD", "fee_period": "month",
                "school_year": f"{ctx.today.year}-{ctx.today.year + 1}" if ctx.today.month >= 8 else f"{ctx.today.year - 1}-{ctx.today.year}"}
    return render(
        ctx, "schooling/case.html", status_code, **context, values={**defaults, **(values or {})}, errors=errors or {}, form=form,
        children=[(str(p.id), p.name) for p in services.children(ctx, case)],
        choices=[(str(r.enrolment.id), f"{r.child.name} · {r.enrolment.school} · {r.enrolment.school_year}") for r in context["rows"]],
        currencies=[(c, c) for c in get_args(Currency)], periods=[(p, _(LABELS[p])) for p in get_args(FeePeriod)],
    )


@litestar.get("/schooling/cases/{case_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="schooling-case")
def case_page(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case's children at school, the fees paid, and the forms to enrol and to pay."""
    return _case_page(ctx, get_case(ctx, case_id))


@litestar.get("/schooling/cases/{case_id:int}/tab", opt={"permission": services.VIEW}, sync_to_thread=True, name="schooling-tab")
def case_tab(request: AnyRequest, ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case tab: the children enrolled and the fees paid (a fragment for htmx, else a page)."""
    context = _tab_context(ctx, get_case(ctx, case_id))
    if request.htmx:  # type: ignore[attr-defined]
        return Template("schooling/_case.html", context=context)
    return render(ctx, "schooling/tab.html", **context)


@litestar.post("/schooling/cases/{case_id:int}/enrolments", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303,
               name="schooling-enrol")
def enrol(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Enrol a child of the case's person at a school."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.enrol(ctx, case, parse(EnrolIn, data)), f"/schooling/cases/{case.id}#enrolments",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), data, errors, "enrol", 422))


@litestar.post("/schooling/cases/{case_id:int}/payments", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303,
               name="schooling-pay")
def pay(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Pay school fees (one transaction with the journal entry)."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.pay_fee(ctx, case, parse(PaymentIn, data)), f"/schooling/cases/{case.id}#payments",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), data, errors, "pay", 422))


@litestar.post("/schooling/payments/{payment_id:int}/reverse", opt={"permission": services.MANAGE}, sync_to_thread=True, status_code=303,
               name="schooling-reverse")
def reverse(ctx: Ctx, payment_id: FromPath[int], data: Form) -> Response[Any]:
    """Reverse a wrong payment (the ledger posts the mirror entry)."""
    payment = services.get_payment(ctx, payment_id)
    case_id = payment.case_id
    return act(ctx, lambda: services.reverse_payment(ctx, payment, parse(ReverseIn, data)), f"/schooling/cases/{case_id}#payments",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), {**data, "payment_id": str(payment_id)}, errors, "reverse", 422))


def _settings_page(ctx: Context, values: dict[str, Any], errors: dict[str, str], status_code: int = 200, saved: bool = False) -> Template:
    return render(ctx, "schooling/settings.html", status_code, values=values, errors=errors, saved=saved)


@litestar.get("/schooling/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, name="schooling-settings")
def settings_page(ctx: Ctx, saved: FromQuery[int] = 0) -> Template:
    """The expense account and the accounts school fees are paid from."""
    row = services.settings(ctx)
    values = {"expense_account": row.expense_account, "pay_from_usd": row.pay_from_usd, "pay_from_khr": row.pay_from_khr}
    return _settings_page(ctx, values, {}, saved=bool(saved))


@litestar.post("/schooling/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, status_code=303,
               name="schooling-settings-save")
def settings_save(ctx: Ctx, data: Form) -> Response[Any]:
    """Save the settings."""
    return act(ctx, lambda: services.save_settings(ctx, parse(SettingsIn, data)), "/schooling/settings?saved=1",
               lambda errors: _settings_page(ctx, data, errors, 422))


ROUTES = [overview, case_page, case_tab, enrol, pay, reverse, settings_page, settings_save]
