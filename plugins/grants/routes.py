"""The module's pages: the list of plans and grants, the business-plan form, the grant's page
(review, payments, repayments, write-off, monthly figures, statement), the case tab and the
reports with their CSV and Excel exports.

Handlers are thin, like training's: read the input, call a service, commit once, then redirect
(post/redirect/get) or re-render the page with field-level messages (422) after a rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.plugin_api import ActionRefused, Case, Context, Ctx, Form, InvalidInput, act, get_case, parse, render, table_download
from core.plugin_api import gettext as _
from plugins.grants import services
from plugins.grants.models import Grant
from plugins.grants.schemas import (
    LABELS, ApproveIn, Asset, BusinessType, CorrectIn, Currency, DisburseIn, Method, MonthIn, PlanIn, PurchaseIn, RejectIn, RepaymentIn,
    WriteOffIn,
)

AnyRequest = Request[Any, Any, Any]
ROWS = services.PLAN_ROWS


def _choices(literal: Any) -> list[tuple[str, str]]:
    return [(value, _(LABELS[value]) if value in LABELS else value) for value in get_args(literal)]


def _rows(data: dict[str, Any], prefix: str, names: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[int]]:
    """The filled rows ``<prefix>.N.<name>`` of a form (a row with every field blank is left out)
    and the form's row number of each, to put messages back at the right row."""
    rows, numbers = [], []
    for n in range(ROWS):
        row = {name: str(data.get(f"{prefix}.{n}.{name}", "") or "").strip() for name in names}
        if any(v for k, v in row.items() if k not in ("currency",)):
            rows.append(row)
            numbers.append(n)
    return rows, numbers


def _renumber(errors: dict[str, str], prefix: str, numbers: list[int]) -> dict[str, str]:
    out = {}
    for key, message in errors.items():
        parts = key.split(".")
        if parts[0] == prefix and len(parts) > 2 and parts[1].isdecimal() and int(parts[1]) < len(numbers):
            key = ".".join([prefix, str(numbers[int(parts[1])]), *parts[2:]])
        out[key] = message
    return out


def _with_rows(model: type, data: dict[str, Any], tables: dict[str, tuple[str, ...]]) -> Any:
    """``parse(model, data)`` with the ``<prefix>.N.*`` rows of each table gathered into lists."""
    values = dict(data)
    numbering = {}
    for prefix, names in tables.items():
        values[prefix], numbering[prefix] = _rows(data, prefix, names)
    try:
        return parse(model, values)
    except InvalidInput as exc:
        errors = exc.errors
        for prefix, numbers in numbering.items():
            errors = _renumber(errors, prefix, numbers)
        raise InvalidInput(errors) from None
    except ActionRefused as exc:  # pragma: no cover - parse raises InvalidInput only
        raise exc


def _refused_rows(exc: ActionRefused, tables: dict[str, tuple[str, ...]], data: dict[str, Any]) -> dict[str, str]:
    errors = exc.errors
    for prefix, names in tables.items():
        _r, numbers = _rows(data, prefix, names)
        errors = _renumber(errors, prefix, numbers)
    return errors


# --- the list --------------------------------------------------------------------------------------


@litestar.get("/grants", opt={"permission": services.VIEW}, sync_to_thread=True, name="grants-list")
def grant_list(ctx: Ctx, status: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    """Plans and grants of the organisation, newest first, 50 a page, filtered by decision."""
    status = status if status in ("submitted", "approved", "rejected") else ""
    rows, has_more = services.grant_list(ctx, status, page)
    return render(
        ctx, "grants/list.html", rows=rows, status=status, page=max(page, 1), has_more=has_more,
        statuses=[(s, _(LABELS[s])) for s in ("submitted", "approved", "rejected")], money=services.money,
    )


# --- the business plan -----------------------------------------------------------------------------

PLAN_TABLES = {"items": ("description", "amount", "currency")}


def _plan_form(ctx: Context, case: Case, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    return render(
        ctx, "grants/plan_form.html", status_code, case=case, values=values, errors=errors, rows=range(ROWS),
        types=_choices(BusinessType), currencies=[(c, c) for c in get_args(Currency)],
        training="training" in ctx.user.enabled_modules,
    )


@litestar.get("/grants/cases/{case_id:int}/new", opt={"permission": services.PLAN}, sync_to_thread=True, name="grants-plan-new")
def plan_new(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The business-plan form for a case."""
    case = get_case(ctx, case_id)
    defaults = {"expected_income_currency": "USD", "contribution_currency": "USD", **{f"items.{n}.currency": "USD" for n in range(ROWS)}}
    return _plan_form(ctx, case, defaults, {})


@litestar.post("/grants/cases/{case_id:int}/plans", opt={"permission": services.PLAN}, sync_to_thread=True, status_code=303, name="grants-plan-create")
def plan_create(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Record the plan (refused for a closed case)."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.create_plan(ctx, case, _with_rows(PlanIn, data, PLAN_TABLES)), lambda grant: f"/grants/{grant.id}",
               lambda errors: _plan_form(ctx, get_case(ctx, case_id), data, errors, 422))


# --- the grant's page ------------------------------------------------------------------------------

APPROVE_TABLES = {"tranches": ("share", "condition"), "instalments": ("due_on", "amount")}


def _grant_page(ctx: Context, grant: Grant, form: str = "", values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                status_code: int = 200) -> Template:
    case = services.case_of(ctx, grant)
    moves = services.movements(ctx, grant)
    where = services.position(ctx, grant)
    business = services.business(ctx, grant)
    today = ctx.today.isoformat()
    defaults: dict[str, Any] = {
        "paid_on": today, "written_on": today, "method": "bank", "currency": grant.currency or "USD",
        "month": ctx.today.strftime("%Y-%m"), "still_trading": "yes", "asset": "equipment",
    }
    if grant.status == "submitted":
        defaults.update({"currency": "USD", "tranches.0.share": "60%", "tranches.0.condition": _("At start"),
                         "tranches.1.share": "40%", "tranches.1.condition": _("After a follow-up visit confirms the business runs")})
    paid_tranches = {m.tranche_id: m for m in moves if m.tranche_id}
    names = services.user_names(ctx, {grant.submitted_by_id, grant.decided_by_id, *(m.recorded_by_id for m in moves)})
    return render(
        ctx, "grants/grant.html", status_code, grant=grant, case=case, person=case.person, moves=moves, where=where,
        paid_tranches=paid_tranches, next_tranche=services.next_tranche(ctx, grant), business=business, chart=business.chart(),
        statement=services.statement(ctx, grant), names=names, money=services.money,
        form=form, values={**defaults, **(values or {})}, errors=errors or {}, rows=range(ROWS),
        funds=[(f.code, f"{f.code} · {f.name}") for f in services.funds(ctx)], currencies=[(c, c) for c in get_args(Currency)],
        methods=_choices(Method), assets=_choices(Asset), yes_no=[("yes", _("Yes")), ("no", _("No"))],
        write_off=services.active_write_off(ctx, grant), training="training" in ctx.user.enabled_modules,
        can_approve=ctx.user.can(services.APPROVE), can_disburse=ctx.user.can(services.DISBURSE),
        can_business=ctx.user.can(services.BUSINESS), can_ledger=ctx.user.can("ledger.view"),
    )


@litestar.get("/grants/{grant_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="grants-grant")
def grant_page(ctx: Ctx, grant_id: FromPath[int]) -> Template:
    """Plan, decision, tranches, purchases, repayments, balance owed, the business's months and
    the grant's journal entries."""
    return _grant_page(ctx, services.get_grant(ctx, grant_id))


def _action(ctx: Context, grant_id: int, form: str, data: dict[str, Any], action: Callable[[Grant], Any],
            tables: dict[str, tuple[str, ...]] | None = None) -> Response[Any]:
    grant = services.get_grant(ctx, grant_id)

    def run() -> None:
        try:
            action(grant)
        except ActionRefused as exc:
            if not tables:
                raise
            raise InvalidInput(_refused_rows(exc, tables, data)) from None  # a refused row, numbered as on the form

    return act(ctx, run, f"/grants/{grant_id}#{form}",
               lambda errors: _grant_page(ctx, services.get_grant(ctx, grant_id), form, data, errors, 422))


@litestar.post("/grants/{grant_id:int}/reject", opt={"permission": services.APPROVE}, sync_to_thread=True, status_code=303, name="grants-reject")
def reject(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Reject the plan with a reason."""
    return _action(ctx, grant_id, "reject", data, lambda g: services.reject(ctx, g, parse(RejectIn, data)))


@litestar.post("/grants/{grant_id:int}/approve", opt={"permission": services.APPROVE}, sync_to_thread=True, status_code=303, name="grants-approve")
def approve(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Approve: amount, fund, tranches, repayable part and its schedule; opens the business's book."""
    return _action(ctx, grant_id, "approve", data, lambda g: services.approve(ctx, g, _with_rows(ApproveIn, data, APPROVE_TABLES)), APPROVE_TABLES)


@litestar.post("/grants/{grant_id:int}/disburse", opt={"permission": services.DISBURSE}, sync_to_thread=True, status_code=303, name="grants-disburse")
def disburse(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Pay the next tranche, with a receipt number."""
    return _action(ctx, grant_id, "disburse", data, lambda g: services.disburse(ctx, g, parse(DisburseIn, data)))


@litestar.post("/grants/{grant_id:int}/purchases", opt={"permission": services.DISBURSE}, sync_to_thread=True, status_code=303, name="grants-purchase")
def purchase(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Record a purchase in kind for the business."""
    return _action(ctx, grant_id, "purchase", data, lambda g: services.purchase(ctx, g, parse(PurchaseIn, data)))


@litestar.post("/grants/{grant_id:int}/repayments", opt={"permission": services.DISBURSE}, sync_to_thread=True, status_code=303, name="grants-repay")
def repay(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Record a repayment of the loan."""
    return _action(ctx, grant_id, "repay", data, lambda g: services.repay(ctx, g, parse(RepaymentIn, data)))


@litestar.post("/grants/{grant_id:int}/write-off", opt={"permission": services.DISBURSE}, sync_to_thread=True, status_code=303, name="grants-write-off")
def write_off(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Write off the balance owed, with the reason."""
    return _action(ctx, grant_id, "write_off", data, lambda g: services.write_off(ctx, g, parse(WriteOffIn, data)))


@litestar.post("/grants/{grant_id:int}/write-off/reverse", opt={"permission": services.DISBURSE}, sync_to_thread=True, status_code=303, name="grants-write-off-reverse")
def write_off_reverse(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Reverse the standing write-off (a reversal entry in the ledger)."""
    return _action(ctx, grant_id, "reverse", data, lambda g: services.reverse_write_off(ctx, g, parse(WriteOffIn, data)))


@litestar.post("/grants/{grant_id:int}/months", opt={"permission": services.BUSINESS}, sync_to_thread=True, status_code=303, name="grants-month")
def month_create(ctx: Ctx, grant_id: FromPath[int], data: Form) -> Response[Any]:
    """Record a month's figures of the business."""
    return _action(ctx, grant_id, "month", data, lambda g: services.record_month(ctx, g, parse(MonthIn, data)))


@litestar.post("/grants/{grant_id:int}/months/{month_id:int}/correct", opt={"permission": services.BUSINESS}, sync_to_thread=True,
               status_code=303, name="grants-month-correct")
def month_correct(ctx: Ctx, grant_id: FromPath[int], month_id: FromPath[int], data: Form) -> Response[Any]:
    """Withdraw the latest month's figures (their entry is reversed) so that they can be entered again."""
    grant = services.get_grant(ctx, grant_id)
    record = services.get_month(ctx, grant, month_id)
    return _action(ctx, grant_id, "correct", data, lambda g: services.correct_month(ctx, g, record, parse(CorrectIn, data)))


# --- the case tab ----------------------------------------------------------------------------------


@litestar.get("/grants/cases/{case_id:int}/tab", opt={"permission": services.VIEW}, sync_to_thread=True, name="grants-case")
def case_tab(request: AnyRequest, ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case's plans and grants with their stage, and the link to a new business plan."""
    case = get_case(ctx, case_id)
    context = {"case": case, "rows": services.grants_of_case(ctx, case), "can_plan": ctx.user.can(services.PLAN), "money": services.money}
    if request.htmx:  # type: ignore[attr-defined]
        return Template("grants/_case.html", context=context)
    return render(ctx, "grants/case.html", **context)


# --- reports ---------------------------------------------------------------------------------------


def _by(by: str) -> str:
    return by if by in ("year", "quarter") else "year"


@litestar.get("/grants/reports", opt={"permission": services.VIEW}, sync_to_thread=True, name="grants-reports")
def reports(ctx: Ctx, by: FromQuery[str] = "year") -> Template:
    """Approved, given, repaid, written off and outstanding per fund and period; survival at 6
    and 12 months; cost per business still trading."""
    by = _by(by)
    surviving, costs = services.survival(ctx)
    return render(ctx, "grants/reports.html", rows=services.fund_figures(ctx, by), by=by, surviving=surviving, costs=costs, money=services.money)


def _report_table(ctx: Context, by: str) -> tuple[list[str], list[list[Any]]]:
    """The per-fund figures as a header and rows, shared by the CSV and the Excel export;
    amounts are Decimals of the currency's precision (never float)."""
    header = [_("Period"), _("Fund"), _("Currency"), _("Approved"), _("Disbursed"), _("Repaid"), _("Written off"),
              _("Not yet disbursed"), _("Loans outstanding")]
    rows = [
        [r.period, r.fund, r.currency, *(r.amount(n) for n in ("approved", "given", "repaid", "written_off", "not_yet_given", "loans_outstanding"))]
        for r in services.fund_figures(ctx, by)
    ]
    return header, rows


@litestar.get("/grants/reports/funds.csv", opt={"permission": services.VIEW}, sync_to_thread=True, name="grants-reports-csv")
def reports_csv(ctx: Ctx, by: FromQuery[str] = "year") -> Response[Any]:
    """The per-fund figures as CSV (UTF-8 with a byte order mark, for spreadsheet programs)."""
    return table_download("grants-funds", *_report_table(ctx, _by(by)), "csv")


@litestar.get("/grants/reports/funds.xlsx", opt={"permission": services.VIEW}, sync_to_thread=True, name="grants-reports-xlsx")
def reports_xlsx(ctx: Ctx, by: FromQuery[str] = "year") -> Response[Any]:
    """The same figures as the CSV, as an Excel workbook (amounts as exact numbers)."""
    return table_download("grants-funds", *_report_table(ctx, _by(by)), "xlsx")


ROUTES = [
    grant_list, plan_new, plan_create, grant_page, reject, approve, disburse, purchase, repay, write_off, write_off_reverse,
    month_create, month_correct, case_tab, reports, reports_csv, reports_xlsx,
]
