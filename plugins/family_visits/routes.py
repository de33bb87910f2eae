"""The module's pages: the list of plans, a case's plan and visits (made and missed, the visit
form), the case tab, the module's settings, the finance officer's monthly subsidy sheet (page, PDF
and Excel) and the reports with their CSV and Excel exports.

Handlers are thin, like grants': read the input, call a service, commit once, then redirect
(post/redirect/get) or re-render the page with field-level messages (422) after a rollback.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, get_args

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.plugin_api import (
    Case, Context, Ctx, Form, PdfUnavailable, Sheet, act, get_case, parse, pdf_language, render, render_pdf, table_download,
    workbook_download,
)
from core.plugin_api import gettext as _
from plugins.family_visits import services
from plugins.family_visits.schemas import ITEMS, LABELS, Currency, Payment, PlanIn, SettingsIn, VisitIn

AnyRequest = Request[Any, Any, Any]


def _choices(values: Any) -> list[tuple[str, str]]:
    return [(str(v), _(LABELS[str(v)]) if str(v) in LABELS else str(v)) for v in values]


def _month(text: str, today: date) -> date:
    """``YYYY-MM`` to the month's first day; this month when blank or not a month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if match and 1 <= int(match.group(2)) <= 12 and 2000 <= int(match.group(1)) <= 2100:
        return date(int(match.group(1)), int(match.group(2)), 1)
    return today.replace(day=1)


def _ids(value: Any) -> set[str]:
    return {str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")}


# --- the list --------------------------------------------------------------------------------------


@litestar.get("/family-visits", opt={"permission": services.VIEW}, sync_to_thread=True, name="family-visits-list")
def plan_list(ctx: Ctx, due: FromQuery[int] = 0, page: FromQuery[int] = 1) -> Template:
    """The visit plans with their last visit, a page at a time; ``due=1``: only families not
    visited in this period."""
    rows, more = services.plan_list(ctx, bool(due), page)
    return render(ctx, "family_visits/list.html", rows=rows, due=bool(due), page=max(1, page), more=more,
                  can_finance=ctx.user.can(services.FINANCE), can_settings=ctx.user.can(services.SETTINGS), money=services.money)


# --- a case ----------------------------------------------------------------------------------------


def _case_context(ctx: Context, case: Case) -> dict[str, Any]:
    plan = services.get_plan(ctx, case)
    visits = services.visits_of(ctx, plan) if plan else []
    periods = services.schedule(ctx, case, plan, visits) if plan else []
    ids = {w.person_id for v in visits for w in v.visitors} | {v.paid_to_id for v in visits} | ({m.person_id for m in plan.members} if plan else set())
    return {
        "case": case, "plan": plan, "periods": periods, "visits": visits, "names": services.person_names(ctx, ids),
        "users": services.user_names(ctx, {v.approved_by_id for v in visits} | {v.recorded_by_id for v in visits}),
        "made": sum(1 for p in periods if p.state == "made"), "missed": sum(1 for p in periods if p.state == "missed"),
        "intervals": dict(_choices(("1", "2", "3"))), "can_plan": ctx.user.can(services.PLAN), "can_record": ctx.user.can(services.RECORD), "money": services.money, "payment_label": services.payment_label,
    }


def _case_page(ctx: Context, case: Case, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    context = _case_context(ctx, case)
    plan = context["plan"]
    defaults: dict[str, Any] = {"visited_on": ctx.today.isoformat(), "duration_minutes": "60", "payment": "cash"}
    if plan is not None:
        defaults.update({"currency": plan.currency, "visitors": [str(m.person_id) for m in plan.members],
                         **{item: str(services.money(getattr(plan, f"{item}_minor"), plan.currency)) for item in ITEMS}})
    values = {**defaults, **(values or {})}
    return render(
        ctx, "family_visits/case.html", status_code, **context, values=values, errors=errors or {}, selected=_ids(values.get("visitors")),
        payments=_choices(get_args(Payment)), currencies=[(c, c) for c in get_args(Currency)],
        approvers=[(str(u.id), u.name) for u in services.approvers(ctx)], items=ITEMS,
        paid_to=[(str(m.person_id), context["names"].get(m.person_id, "?")) for m in plan.members] if plan else [], settings=services.settings(ctx),
    )


@litestar.get("/family-visits/cases/{case_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="family-visits-case")
def case_page(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case's plan, its periods (made, missed, due), its visits and the visit form."""
    return _case_page(ctx, get_case(ctx, case_id))


@litestar.get("/family-visits/cases/{case_id:int}/tab", opt={"permission": services.VIEW}, sync_to_thread=True, name="family-visits-tab")
def case_tab(request: AnyRequest, ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case tab: the plan and the visits made and missed, month by month."""
    context = _case_context(ctx, get_case(ctx, case_id))
    if request.htmx:  # type: ignore[attr-defined]
        return Template("family_visits/_case.html", context=context)
    return render(ctx, "family_visits/tab.html", **context)


def _plan_form(ctx: Context, case: Case, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    return render(
        ctx, "family_visits/plan_form.html", status_code, case=case, values=values, errors=errors, family=services.family(ctx, case),
        selected=_ids(values.get("members")), currencies=[(c, c) for c in get_args(Currency)], intervals=_choices(("1", "2", "3")),
        settings=services.settings(ctx), money=services.money,
    )


@litestar.get("/family-visits/cases/{case_id:int}/plan", opt={"permission": services.PLAN}, sync_to_thread=True, name="family-visits-plan-form")
def plan_form(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The visit plan's form, filled with the current plan when there is one."""
    case = get_case(ctx, case_id)
    plan = services.get_plan(ctx, case)
    if plan is None:
        family = services.family(ctx, case)
        values: dict[str, Any] = {"members": [str(p.id) for _r, p in family], "village": case.person.village or "", "prison": case.prison or "",
                                  "interval_months": "1", "starts_on": ctx.today.strftime("%Y-%m"), "currency": "KHR"}
    else:
        values = {"members": [str(m.person_id) for m in plan.members], "village": plan.village, "prison": plan.prison,
                  "interval_months": str(plan.interval_months), "starts_on": plan.starts_on.strftime("%Y-%m"), "currency": plan.currency,
                  **{item: str(services.money(getattr(plan, f"{item}_minor"), plan.currency)) for item in ITEMS}}
    return _plan_form(ctx, case, values, {})


@litestar.post("/family-visits/cases/{case_id:int}/plan", opt={"permission": services.PLAN}, sync_to_thread=True, status_code=303, name="family-visits-plan-set")
def plan_set(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Set or change the plan."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.set_plan(ctx, case, parse(PlanIn, data)), f"/family-visits/cases/{case.id}",
               lambda errors: _plan_form(ctx, get_case(ctx, case_id), data, errors, 422))


@litestar.post("/family-visits/cases/{case_id:int}/visits", opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303,
               name="family-visits-visit")
def visit_create(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Record a visit and pay its subsidy (one transaction with its journal entry)."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.record_visit(ctx, case, parse(VisitIn, data)), f"/family-visits/cases/{case.id}#visits",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), data, errors, 422))


# --- settings --------------------------------------------------------------------------------------


def _settings_page(ctx: Context, values: dict[str, Any], errors: dict[str, str], status_code: int = 200, saved: bool = False) -> Template:
    return render(ctx, "family_visits/settings.html", status_code, values=values, errors=errors, saved=saved,
                  funds=[(f.code, f"{f.code} · {f.name}") for f in services.funds(ctx)])


@litestar.get("/family-visits/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, name="family-visits-settings")
def settings_page(ctx: Ctx, saved: FromQuery[int] = 0) -> Template:
    """The fund visit subsidies are charged to and the per-visit limits."""
    row = services.settings(ctx)
    values = {
        "fund": row.fund_code or "",
        "limit_usd": "" if row.limit_usd_minor is None else str(services.money(row.limit_usd_minor, "USD")),
        "limit_khr": "" if row.limit_khr_minor is None else str(services.money(row.limit_khr_minor, "KHR")),
    }
    return _settings_page(ctx, values, {}, saved=bool(saved))


@litestar.post("/family-visits/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, status_code=303, name="family-visits-settings-save")
def settings_save(ctx: Ctx, data: Form) -> Response[Any]:
    """Save the settings."""
    return act(ctx, lambda: services.save_settings(ctx, parse(SettingsIn, data)), "/family-visits/settings?saved=1",
               lambda errors: _settings_page(ctx, data, errors, 422))


# --- the monthly subsidy sheet ---------------------------------------------------------------------


@litestar.get("/family-visits/sheets", opt={"permission": services.FINANCE}, sync_to_thread=True, name="family-visits-sheet")
def sheet_page(ctx: Ctx, month: FromQuery[str] = "", prison: FromQuery[str] = "") -> Template:
    """The month's subsidies per prison with their totals, beside the ledger's figure for the month."""
    first = _month(month, ctx.today)
    data = services.sheet(ctx, first, prison)
    return render(ctx, "family_visits/sheet.html", sheet=data, month=first.strftime("%Y-%m"), prison=prison,
                  prisons=services.sheet_prisons(ctx, first), ledger=services.ledger_month(ctx, first), money=services.money,
                  payment_label=services.payment_label)


@litestar.get("/family-visits/sheets/sheet.pdf", opt={"permission": services.FINANCE}, sync_to_thread=True, name="family-visits-sheet-pdf")
def sheet_pdf(request: AnyRequest, ctx: Ctx, month: FromQuery[str] = "", prison: FromQuery[str] = "", lang: FromQuery[str] = "") -> Response[Any]:
    """The sheet to print and attach to the month's bank statement; a page saying what is missing
    (503) when the server cannot draw PDFs."""
    first = _month(month, ctx.today)
    data = services.sheet(ctx, first, prison)
    language = pdf_language(lang, ctx.user.locale)
    try:
        body = render_pdf(
            request, "family_visits/sheet_pdf.html", language,
            sheet=data, organisation=ctx.organisation.name, money=services.money, payment_label=services.payment_label,
        )
    except PdfUnavailable:
        return render(ctx, "family_visits/pdf_unavailable.html", 503, month=first.strftime("%Y-%m"), prison=prison)
    filename = f"family-visits-{first:%Y-%m}.pdf"
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


@litestar.get("/family-visits/sheets/sheet.xlsx", opt={"permission": services.FINANCE}, sync_to_thread=True, name="family-visits-sheet-xlsx")
def sheet_xlsx(ctx: Ctx, month: FromQuery[str] = "", prison: FromQuery[str] = "") -> Response[Any]:
    """The sheet as an Excel workbook: one row per subsidy, amounts as exact numbers, and the
    totals per currency below."""
    first = _month(month, ctx.today)
    data = services.sheet(ctx, first, prison)
    header, rows = services.sheet_table(ctx, data)
    title = [_("Family visit subsidies"), ctx.organisation.name, first.strftime("%Y-%m"), prison or _("Every prison")]
    totals = [[_("Total"), "", "", "", "", "", "", "", "", "", "", total, currency] for currency, total in data.totals.items()]
    return workbook_download(f"family-visits-{first:%Y-%m}", [Sheet(first.strftime("%Y-%m"), header, rows, above=[title], below=totals)])


# --- reports ---------------------------------------------------------------------------------------


@litestar.get("/family-visits/reports", opt={"permission": services.VIEW}, sync_to_thread=True, name="family-visits-reports")
def reports(ctx: Ctx) -> Template:
    """Visits per month, the share of prisoners with a plan visited, average subsidy and cost per visit."""
    return render(ctx, "family_visits/reports.html", rows=services.report(ctx), currencies=services.CURRENCIES, money=services.money)


@litestar.get("/family-visits/reports/months.csv", opt={"permission": services.VIEW}, sync_to_thread=True, name="family-visits-reports-csv")
def reports_csv(ctx: Ctx) -> Response[Any]:
    """The monthly figures as CSV (UTF-8 with a byte order mark, for spreadsheet programs)."""
    return table_download("family-visits-months", *services.report_table(ctx), "csv")


@litestar.get("/family-visits/reports/months.xlsx", opt={"permission": services.VIEW}, sync_to_thread=True, name="family-visits-reports-xlsx")
def reports_xlsx(ctx: Ctx) -> Response[Any]:
    """The same figures as the CSV, as an Excel workbook (amounts as exact numbers)."""
    return table_download("family-visits-months", *services.report_table(ctx), "xlsx")


ROUTES = [
    plan_list, case_page, case_tab, plan_form, plan_set, visit_create, settings_page, settings_save,
    sheet_page, sheet_pdf, sheet_xlsx, reports, reports_csv, reports_xlsx,
]
