"""The module's pages: the list of releases with support given (and its CSV and Excel exports),
a case's release-day support and checklist (page and case tab), the stock (levels, receipts, low
stock) and the module's settings.

Handlers are thin, like family_visits': read the input, call a service inside ``act`` (one
transaction per user action), then redirect (post/redirect/get) or re-render the page with
field-level messages (422) after a rollback.
"""

from __future__ import annotations

import re
from typing import Any, get_args

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.plugin_api import Case, Context, Ctx, Form, InvalidInput, act, get_case, parse, render, staff, table_download
from core.plugin_api import gettext as _
from plugins.release_support import services
from plugins.release_support.schemas import STEPS, Currency, ItemIn, ReceiptIn, RecordIn, ReverseIn, SettingsIn, StepIn

AnyRequest = Request[Any, Any, Any]
QTY = re.compile(r"qty_(\d+)")
LOW = re.compile(r"low_(\d+)")


def _counts(data: dict[str, Any], pattern: re.Pattern[str]) -> tuple[dict[int, int], dict[str, str]]:
    """The ``<prefix>_<item id>`` whole numbers of a form (blank: 0), and a message per bad one."""
    out: dict[int, int] = {}
    errors: dict[str, str] = {}
    for key, value in data.items():
        match = pattern.fullmatch(key)
        if not match:
            continue
        text = (value[-1] if isinstance(value, list) else value or "").strip()
        if not text:
            out[int(match.group(1))] = 0
        elif text.isdecimal() and int(text) <= 1_000_000:
            out[int(match.group(1))] = int(text)
        else:
            errors[key] = _("Enter a whole number, zero or more.")
    return out, errors


def _with_counts(model: Any, data: dict[str, Any], pattern: re.Pattern[str]) -> tuple[Any, dict[int, int]]:
    """``parse(model, data)`` and the form's counts, every field's message at once."""
    counts, errors = _counts(data, pattern)
    parsed = None
    try:
        parsed = parse(model, data)
    except InvalidInput as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise InvalidInput(errors)
    return parsed, counts


def _amount(minor: int | None, currency: str) -> str:
    return "" if not minor else str(services.money(minor, currency))


# --- the list --------------------------------------------------------------------------------------


PER_PAGE = 50


@litestar.get("/release-support", opt={"permission": services.VIEW}, sync_to_thread=True, name="release-support-list")
def record_list(ctx: Ctx, page: FromQuery[int] = 1) -> Template:
    """The release-day records, newest first, 50 a page, with their cash and starter pack."""
    page = max(1, page)
    rows = services.records(ctx, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    rows, more = rows[:PER_PAGE], len(rows) > PER_PAGE
    return render(ctx, "release_support/list.html", rows=rows, cases=services.cases_by_id(ctx, {r.case_id for r in rows}),
                  names={i.id: i.name for i in services.items(ctx)}, money=services.money, pack_cost=services.pack_cost,
                  can_settings=ctx.user.can(services.SETTINGS), page=page, more=more)


def _table_response(ctx: Context, kind: str) -> Response[Any]:
    return table_download("release-support", *services.record_table(ctx), kind)


@litestar.get("/release-support/export.csv", opt={"permission": services.VIEW}, sync_to_thread=True, name="release-support-csv")
def export_csv(ctx: Ctx) -> Response[Any]:
    """The list as CSV (UTF-8 with a byte order mark, for spreadsheet programs)."""
    return _table_response(ctx, "csv")


@litestar.get("/release-support/export.xlsx", opt={"permission": services.VIEW}, sync_to_thread=True, name="release-support-xlsx")
def export_xlsx(ctx: Ctx) -> Response[Any]:
    """The list as an Excel workbook (amounts as exact numbers)."""
    return _table_response(ctx, "xlsx")


# --- a case ----------------------------------------------------------------------------------------


def _case_context(ctx: Context, case: Case) -> dict[str, Any]:
    rows = services.records(ctx, case)
    steps = services.checklist(ctx, case)
    return {
        "case": case, "records": rows, "steps": steps, "step_names": STEPS, "complete": services.checklist_complete(steps),
        "names": {i.id: i.name for i in services.items(ctx)}, "money": services.money, "pack_cost": services.pack_cost,
        "label": services.label,
        "users": services.user_names(ctx, {r.handed_over_by_id for r in rows} | {s.ticked_by_id for s in steps.values()} | {r.reversed_by_id for r in rows}),
        "can_record": ctx.user.can(services.RECORD), "can_correct": ctx.user.can(services.CORRECT),
    }


def _case_page(ctx: Context, case: Case, form: str = "", values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> Template:
    context = _case_context(ctx, case)
    setting = services.settings(ctx)
    defaults: dict[str, Any] = {
        "given_on": (case.actual_release if case.actual_release and case.actual_release <= ctx.today else ctx.today).isoformat(),
        "currency": setting.currency, "fare": _amount(setting.fare_minor, setting.currency), "food_days": "0",
        "food_per_day": _amount(setting.food_per_day_minor, setting.currency), "nights": "0",
        "night_rate": _amount(setting.night_rate_minor, setting.currency), "handed_over_by": str(ctx.user.id),
        "done_on": ctx.today.isoformat(), "reversed_on": ctx.today.isoformat(),
    }
    values = {**defaults, **(values or {})}
    return render(
        ctx, "release_support/case.html", status_code, **context, form=form, values=values, errors=errors or {},
        levels=services.levels(ctx), currencies=[(c, c) for c in get_args(Currency)], settings=setting,
        handers=[(str(u.id), u.name) for u, _role in staff(ctx)], steps_options=[(s, services.label(s)) for s in STEPS],
    )


@litestar.get("/release-support/cases/{case_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="release-support-case")
def case_page(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case's release-day support, its checklist and their forms."""
    return _case_page(ctx, get_case(ctx, case_id))


@litestar.get("/release-support/cases/{case_id:int}/tab", opt={"permission": services.VIEW}, sync_to_thread=True, name="release-support-tab")
def case_tab(request: AnyRequest, ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case tab: the support given and the checklist."""
    context = _case_context(ctx, get_case(ctx, case_id))
    if request.htmx:  # type: ignore[attr-defined]
        return Template("release_support/_case.html", context=context)
    return render(ctx, "release_support/tab.html", **context)


@litestar.post("/release-support/cases/{case_id:int}/records", opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303,
               name="release-support-record")
def record_create(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Record the support given on the day of release (one transaction with its journal entry)."""
    case = get_case(ctx, case_id)

    def action() -> Any:
        parsed, quantities = _with_counts(RecordIn, data, QTY)
        return services.record_support(ctx, case, parsed, quantities)

    return act(ctx, action, f"/release-support/cases/{case.id}#support",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), "record", data, errors, 422))


@litestar.post("/release-support/cases/{case_id:int}/checklist", opt={"permission": services.RECORD}, sync_to_thread=True, status_code=303,
               name="release-support-tick")
def checklist_tick(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Tick a step of the release-day checklist."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.tick(ctx, case, parse(StepIn, data)), f"/release-support/cases/{case.id}#checklist",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), "checklist", data, errors, 422))


@litestar.post("/release-support/records/{record_id:int}/reverse", opt={"permission": services.CORRECT}, sync_to_thread=True, status_code=303,
               name="release-support-reverse")
def record_reverse(ctx: Ctx, record_id: FromPath[int], data: Form) -> Response[Any]:
    """Reverse a record made in error (finance, admin): its journal entry is reversed."""
    record = services.get_record(ctx, record_id)
    case_id = record.case_id
    return act(ctx, lambda: services.reverse_record(ctx, record, parse(ReverseIn, data)), f"/release-support/cases/{case_id}#support",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), f"reverse-{record_id}", data, errors, 422))


# --- stock -----------------------------------------------------------------------------------------


def _stock_page(ctx: Context, form: str = "", values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                status_code: int = 200) -> Template:
    levels = services.levels(ctx)
    defaults = {"received_on": ctx.today.isoformat(), "currency": "KHR", "low_at": "0"}
    return render(
        ctx, "release_support/stock.html", status_code, levels=levels, low=[lv for lv in levels if lv.low], receipts=services.receipts(ctx),
        names={lv.item.id: f"{lv.item.name} ({lv.item.unit})" for lv in levels}, money=services.money, form=form,
        values={**defaults, **(values or {})}, errors=errors or {}, can_stock=ctx.user.can(services.STOCK),
        item_options=[(str(lv.item.id), f"{lv.item.name} · {lv.item.currency}") for lv in levels], currencies=[(c, c) for c in get_args(Currency)],
        accounts=[(a, a) for a in services.pay_accounts(ctx)],
    )


@litestar.get("/release-support/stock", opt={"permission": services.VIEW}, sync_to_thread=True, name="release-support-stock")
def stock_page(ctx: Ctx) -> Template:
    """Stock levels (received, issued, on hand, value at cost), low stock, and the receipts."""
    return _stock_page(ctx)


@litestar.post("/release-support/stock/items", opt={"permission": services.STOCK}, sync_to_thread=True, status_code=303,
               name="release-support-item")
def item_create(ctx: Ctx, data: Form) -> Response[Any]:
    """Add a stock item."""
    return act(ctx, lambda: services.add_item(ctx, parse(ItemIn, data)), "/release-support/stock#levels",
               lambda errors: _stock_page(ctx, "item", data, errors, 422))


@litestar.post("/release-support/stock/receipts", opt={"permission": services.STOCK}, sync_to_thread=True, status_code=303,
               name="release-support-receipt")
def receipt_create(ctx: Ctx, data: Form) -> Response[Any]:
    """Record stock received (one transaction with its journal entry)."""
    return act(ctx, lambda: services.receive(ctx, parse(ReceiptIn, data)), "/release-support/stock#receipts",
               lambda errors: _stock_page(ctx, "receipt", data, errors, 422))


# --- settings --------------------------------------------------------------------------------------


def _settings_page(ctx: Context, values: dict[str, Any], errors: dict[str, str], status_code: int = 200, saved: bool = False) -> Template:
    accounts = services.pay_accounts(ctx)
    return render(ctx, "release_support/settings.html", status_code, values=values, errors=errors, saved=saved,
                  funds=[(f.code, f"{f.code} · {f.name}") for f in services.funds(ctx)], currencies=[(c, c) for c in get_args(Currency)],
                  accounts_usd=[(a, a) for a in services.pay_accounts(ctx, "USD")], accounts_khr=[(a, a) for a in services.pay_accounts(ctx, "KHR")],
                  items=services.items(ctx), accounts=accounts)


@litestar.get("/release-support/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, name="release-support-settings")
def settings_page(ctx: Ctx, saved: FromQuery[int] = 0) -> Template:
    """The fund and accounts, the default amounts, the ceilings and each item's low-stock level."""
    row = services.settings(ctx)
    values: dict[str, Any] = {
        "fund": row.fund_code or "", "expense_account": row.expense_account, "pay_from_usd": row.pay_from_usd or "",
        "pay_from_khr": row.pay_from_khr or "", "currency": row.currency, "fare": _amount(row.fare_minor, row.currency),
        "food_per_day": _amount(row.food_per_day_minor, row.currency), "night_rate": _amount(row.night_rate_minor, row.currency),
        "ceiling_usd": _amount(row.ceiling_usd_minor, "USD"), "ceiling_khr": _amount(row.ceiling_khr_minor, "KHR"),
        **{f"low_{i.id}": str(i.low_at) for i in services.items(ctx)},
    }
    return _settings_page(ctx, values, {}, saved=bool(saved))


@litestar.post("/release-support/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, status_code=303,
               name="release-support-settings-save")
def settings_save(ctx: Ctx, data: Form) -> Response[Any]:
    """Save the settings."""

    def action() -> Any:
        parsed, thresholds = _with_counts(SettingsIn, data, LOW)
        return services.save_settings(ctx, parsed, thresholds)

    return act(ctx, action, "/release-support/settings?saved=1", lambda errors: _settings_page(ctx, data, errors, 422))


ROUTES = [
    record_list, export_csv, export_xlsx, case_page, case_tab, record_create, checklist_tick, record_reverse,
    stock_page, item_create, receipt_create, settings_page, settings_save,
]
