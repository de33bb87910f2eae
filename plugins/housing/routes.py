"""The module's pages: the list of repairs (filters by status, type, overdue), a case's homes
(assessments and repairs; the case tab), the assessment form, a repair with its whole history
and the forms of each step (quote, approval or sending back, payment with its invoice, reversal,
progress, sign-off, cancellation), the settings and the reports with their CSV and Excel exports.

Handlers are thin, like family_visits': read the input, call a service, commit once, then
redirect (post/redirect/get) or re-render the page with field-level messages (422) after a
rollback (``act``). Forms with files post ``multipart/form-data`` (``MultipartForm``).
"""

from __future__ import annotations

from typing import Any, get_args

import litestar
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.plugin_api import (
    Case, Context, Ctx, Form, MultipartForm, Sheet, act, get_case, parse, render, table_download, uploads, workbook_download,
)
from core.plugin_api import gettext as _
from plugins.housing import services
from plugins.housing.models import Repair
from plugins.housing.schemas import (
    MATERIALS, REPAIR_TYPES, STATUSES, URGENCIES, ApproveIn, AssessmentIn, CancelIn, CompleteIn, Currency, Method, PaymentIn,
    PaymentKind, ProgressIn, QuoteIn, RepairIn, ReverseIn, SendBackIn, SettingsIn,
)

AnyRequest = Request[Any, Any, Any]


def _choices(values: Any) -> list[tuple[str, str]]:
    return [(str(v), services.label(str(v))) for v in values]


def _text(data: dict[str, Any]) -> dict[str, Any]:
    """A posted form without its files, to fill the form again after a refusal."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = [v for v in value if not isinstance(v, UploadFile)]
        elif isinstance(value, UploadFile):
            continue
        out[key] = value
    return out


def _ids(value: Any) -> set[str]:
    return {str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")}


def _common(ctx: Context) -> dict[str, Any]:
    return {"money": services.money, "label": services.label, "today": ctx.today}


# --- the list --------------------------------------------------------------------------------------


@litestar.get("/housing", opt={"permission": services.VIEW}, sync_to_thread=True, name="housing-list")
def repair_list(ctx: Ctx, status: FromQuery[str] = "", repair_type: FromQuery[str] = "", overdue: FromQuery[int] = 0) -> Template:
    """Every repair of the organisation, overdue first; filters by status, type and overdue."""
    return render(ctx, "housing/list.html", rows=services.repair_list(ctx, status, repair_type, bool(overdue)),
                  status=status, repair_type=repair_type, overdue=bool(overdue), statuses=_choices(STATUSES), types=_choices(REPAIR_TYPES),
                  can_settings=ctx.user.can(services.SETTINGS), **_common(ctx))


# --- a case ----------------------------------------------------------------------------------------


def _case_context(ctx: Context, case: Case) -> dict[str, Any]:
    assessments = services.assessments_of(ctx, case)
    repairs = services.repairs_of(ctx, case)
    relatives = services.family(ctx, case)
    return {
        "case": case, "assessments": assessments, "latest": assessments[0] if assessments else None, "repairs": repairs,
        "names": {p.id: p.name for _r, p in relatives}, "files": services.files_of_case(ctx, case.id),
        "paid": services.paid_by_repair(ctx, [r.id for r in repairs]), "can_assess": ctx.user.can(services.ASSESS),
        "is_overdue": services.is_overdue, **_common(ctx),
    }


def _case_page(ctx: Context, case: Case, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    values = {"planned_on": "", "repair_type": "", "description": "", **(values or {})}
    return render(ctx, "housing/case.html", status_code, **_case_context(ctx, case), values=values, errors=errors or {},
                  types=_choices(REPAIR_TYPES))


@litestar.get("/housing/cases/{case_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="housing-case")
def case_page(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case's home: its assessments with photos, its repairs, and the form to propose one."""
    return _case_page(ctx, get_case(ctx, case_id))


@litestar.get("/housing/cases/{case_id:int}/tab", opt={"permission": services.VIEW}, sync_to_thread=True, name="housing-tab")
def case_tab(request: AnyRequest, ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The case tab: the latest assessment and the repairs with their state."""
    context = _case_context(ctx, get_case(ctx, case_id))
    if request.htmx:  # type: ignore[attr-defined]
        return Template("housing/_case.html", context=context)
    return render(ctx, "housing/tab.html", **context)


def _assess_form(ctx: Context, case: Case, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    return render(ctx, "housing/assess.html", status_code, case=case, values=values, errors=errors, family=services.family(ctx, case),
                  selected=_ids(values.get("household")), materials=_choices(MATERIALS), urgencies=_choices(URGENCIES), **_common(ctx))


@litestar.get("/housing/cases/{case_id:int}/assess", opt={"permission": services.ASSESS}, sync_to_thread=True, name="housing-assess-form")
def assess_form(ctx: Ctx, case_id: FromPath[int]) -> Template:
    """The assessment form (household, structure, what is broken, urgency, photos)."""
    case = get_case(ctx, case_id)
    values = {"assessed_on": ctx.today.isoformat(), "household": [str(p.id) for _r, p in services.family(ctx, case)], "urgency": "medium"}
    return _assess_form(ctx, case, values, {})


@litestar.post("/housing/cases/{case_id:int}/assess", opt={"permission": services.ASSESS}, sync_to_thread=True, status_code=303,
               name="housing-assess")
def assess(ctx: Ctx, case_id: FromPath[int], data: MultipartForm) -> Response[Any]:
    """Record the assessment and its photos."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.assess(ctx, case, parse(AssessmentIn, _text(data)), uploads(data, "photos")), f"/housing/cases/{case.id}",
               lambda errors: _assess_form(ctx, get_case(ctx, case_id), _text(data), errors, 422))


@litestar.post("/housing/cases/{case_id:int}/repairs", opt={"permission": services.ASSESS}, sync_to_thread=True, status_code=303,
               name="housing-propose")
def propose(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    """Propose one repair item."""
    case = get_case(ctx, case_id)
    return act(ctx, lambda: services.propose_repair(ctx, case, parse(RepairIn, data)), lambda repair: f"/housing/repairs/{repair.id}",
               lambda errors: _case_page(ctx, get_case(ctx, case_id), data, errors, 422))


# --- a repair --------------------------------------------------------------------------------------


def _repair_page(ctx: Context, repair: Repair, form: str = "", values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                 status_code: int = 200) -> Template:
    case = services.case_of(ctx, repair)
    quotes = services.quotes_of(ctx, repair)
    payments = services.payments_of(ctx, repair)
    quote = services.approved_quote(ctx, repair)
    paid = services.paid_minor(ctx, repair)
    relatives = services.family(ctx, case)
    users = services.user_names(ctx, {q.decided_by_id for q in quotes} | {p.recorded_by_id for p in payments} | {repair.proposed_by_id})
    defaults: dict[str, Any] = {
        "quoted_on": ctx.today.isoformat(), "currency": "USD", "paid_on": ctx.today.isoformat(), "method": "bank_transfer",
        "kind": "advance" if not paid else "completion", "amount": "", "progress_on": ctx.today.isoformat(),
        "completed_on": ctx.today.isoformat(), "reversed_on": ctx.today.isoformat(),
    }
    if quote is not None and form != "quote":
        defaults["amount"] = str(services.money(quote.amount_minor - paid, quote.currency))
    values = {**defaults, **(values or {})}
    return render(
        ctx, "housing/repair.html", status_code, repair=repair, case=case, quotes=quotes, payments=payments, quote=quote, paid=paid,
        progress=services.progress_of(ctx, repair), files=services.files_of_case(ctx, case.id), history=services.history(ctx, repair),
        assessment=services.get_assessment(ctx, repair.assessment_id), users=users, names={p.id: p.name for _r, p in relatives},
        relatives=relatives,
        form=form, values=values, errors=errors or {}, overdue=services.is_overdue(repair, ctx.today),
        currencies=[(c, c) for c in get_args(Currency)], kinds=_choices(get_args(PaymentKind)), methods=_choices(get_args(Method)),
        can_assess=ctx.user.can(services.ASSESS), can_approve=ctx.user.can(services.APPROVE), can_pay=ctx.user.can(services.PAY),
        settings=services.settings(ctx), **_common(ctx),
    )


@litestar.get("/housing/repairs/{repair_id:int}", opt={"permission": services.VIEW}, sync_to_thread=True, name="housing-repair")
def repair_page(ctx: Ctx, repair_id: FromPath[int]) -> Template:
    """A repair: its quotes, payments, progress with photos, sign-off, the whole history and the
    forms of the next steps the user's role allows."""
    return _repair_page(ctx, services.get_repair(ctx, repair_id))


def _repair_action(ctx: Context, repair_id: int, form: str, action: Any, data: dict[str, Any]) -> Response[Any]:
    repair = services.get_repair(ctx, repair_id)
    return act(ctx, lambda: action(repair), f"/housing/repairs/{repair.id}#{form}",
               lambda errors: _repair_page(ctx, services.get_repair(ctx, repair_id), form, _text(data), errors, 422))


@litestar.post("/housing/repairs/{repair_id:int}/quotes", opt={"permission": services.ASSESS}, sync_to_thread=True, status_code=303,
               name="housing-quote")
def quote_add(ctx: Ctx, repair_id: FromPath[int], data: MultipartForm) -> Response[Any]:
    """Add a builder's or supplier's quote with its document."""
    return _repair_action(ctx, repair_id, "quote", lambda r: services.add_quote(ctx, r, parse(QuoteIn, _text(data)), uploads(data, "quote_file")), data)


@litestar.post("/housing/quotes/{quote_id:int}/approve", opt={"permission": services.APPROVE}, sync_to_thread=True, status_code=303,
               name="housing-quote-approve")
def quote_approve(ctx: Ctx, quote_id: FromPath[int], data: Form) -> Response[Any]:
    """Approve a quote within the ceiling per home."""
    quote = services.get_quote(ctx, quote_id)
    return _repair_action(ctx, quote.repair_id, "quotes", lambda _r: services.approve_quote(ctx, quote, parse(ApproveIn, data)), data)


@litestar.post("/housing/quotes/{quote_id:int}/send-back", opt={"permission": services.APPROVE}, sync_to_thread=True, status_code=303,
               name="housing-quote-send-back")
def quote_send_back(ctx: Ctx, quote_id: FromPath[int], data: Form) -> Response[Any]:
    """Send a quote back with the reason."""
    quote = services.get_quote(ctx, quote_id)
    return _repair_action(ctx, quote.repair_id, "quotes", lambda _r: services.send_back(ctx, quote, parse(SendBackIn, data)), data)


@litestar.post("/housing/repairs/{repair_id:int}/payments", opt={"permission": services.PAY}, sync_to_thread=True, status_code=303,
               name="housing-pay")
def payment_create(ctx: Ctx, repair_id: FromPath[int], data: MultipartForm) -> Response[Any]:
    """Pay the supplier (one transaction with the journal entry and its invoice)."""
    return _repair_action(ctx, repair_id, "payment", lambda r: services.pay(ctx, r, parse(PaymentIn, _text(data)), uploads(data, "invoice")), data)


@litestar.post("/housing/payments/{payment_id:int}/reverse", opt={"permission": services.PAY}, sync_to_thread=True, status_code=303,
               name="housing-payment-reverse")
def payment_reverse(ctx: Ctx, payment_id: FromPath[int], data: Form) -> Response[Any]:
    """Reverse a wrong payment in the ledger."""
    payment = services.get_payment(ctx, payment_id)
    return _repair_action(ctx, payment.repair_id, "payments", lambda _r: services.reverse_payment(ctx, payment, parse(ReverseIn, data)), data)


@litestar.post("/housing/repairs/{repair_id:int}/progress", opt={"permission": services.ASSESS}, sync_to_thread=True, status_code=303,
               name="housing-progress")
def progress_create(ctx: Ctx, repair_id: FromPath[int], data: MultipartForm) -> Response[Any]:
    """Record progress with photos."""
    return _repair_action(ctx, repair_id, "progress",
                          lambda r: services.record_progress(ctx, r, parse(ProgressIn, _text(data)), uploads(data, "progress_photos")), data)


@litestar.post("/housing/repairs/{repair_id:int}/complete", opt={"permission": services.ASSESS}, sync_to_thread=True, status_code=303,
               name="housing-complete")
def repair_complete(ctx: Ctx, repair_id: FromPath[int], data: MultipartForm) -> Response[Any]:
    """Record the family's sign-off: the repair is completed."""
    return _repair_action(ctx, repair_id, "complete",
                          lambda r: services.complete(ctx, r, parse(CompleteIn, _text(data)), uploads(data, "signoff_file")), data)


@litestar.post("/housing/repairs/{repair_id:int}/cancel", opt={"permission": services.ASSESS}, sync_to_thread=True, status_code=303,
               name="housing-cancel")
def repair_cancel(ctx: Ctx, repair_id: FromPath[int], data: Form) -> Response[Any]:
    """Give up the repair, with the reason."""
    return _repair_action(ctx, repair_id, "cancel", lambda r: services.cancel(ctx, r, parse(CancelIn, data)), data)


# --- settings --------------------------------------------------------------------------------------


def _settings_page(ctx: Context, values: dict[str, Any], errors: dict[str, str], status_code: int = 200, saved: bool = False) -> Template:
    return render(ctx, "housing/settings.html", status_code, values=values, errors=errors, saved=saved,
                  funds=[(f.code, f"{f.code} · {f.name}") for f in services.funds(ctx)], currencies=[(c, c) for c in get_args(Currency)])


@litestar.get("/housing/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, name="housing-settings")
def settings_page(ctx: Ctx, saved: FromQuery[int] = 0) -> Template:
    """The fund, the budget ceiling per home, the expense account and the pay-from accounts."""
    row = services.settings(ctx)
    values = {
        "fund": row.fund_code or "", "ceiling_currency": row.ceiling_currency,
        "ceiling": "" if row.ceiling_minor is None else str(services.money(row.ceiling_minor, row.ceiling_currency)),
        "expense_account": row.expense_account, "pay_from_usd": row.pay_from_usd, "pay_from_khr": row.pay_from_khr,
    }
    return _settings_page(ctx, values, {}, saved=bool(saved))


@litestar.post("/housing/settings", opt={"permission": services.SETTINGS}, sync_to_thread=True, status_code=303, name="housing-settings-save")
def settings_save(ctx: Ctx, data: Form) -> Response[Any]:
    """Save the settings."""
    return act(ctx, lambda: services.save_settings(ctx, parse(SettingsIn, data)), "/housing/settings?saved=1",
               lambda errors: _settings_page(ctx, data, errors, 422))


# --- reports ---------------------------------------------------------------------------------------


@litestar.get("/housing/reports", opt={"permission": services.VIEW}, sync_to_thread=True, name="housing-reports")
def reports(ctx: Ctx) -> Template:
    """Repairs by status and type, cost per home, time from assessment to completion."""
    return render(ctx, "housing/reports.html", report=services.report(ctx), statuses=STATUSES, types=REPAIR_TYPES,
                  currencies=services.CURRENCIES, **_common(ctx))


@litestar.get("/housing/reports/repairs.csv", opt={"permission": services.VIEW}, sync_to_thread=True, name="housing-reports-csv")
def reports_csv(ctx: Ctx) -> Response[Any]:
    """Every repair as CSV (UTF-8 with a byte order mark, for spreadsheet programs)."""
    return table_download("housing-repairs", *services.repairs_table(ctx), "csv")


@litestar.get("/housing/reports/repairs.xlsx", opt={"permission": services.VIEW}, sync_to_thread=True, name="housing-reports-xlsx")
def reports_xlsx(ctx: Ctx) -> Response[Any]:
    """The same repairs as the CSV, plus the counts by status and type and the cost per home, as
    an Excel workbook (amounts as exact numbers)."""
    header, rows = services.repairs_table(ctx)
    data = services.report(ctx)
    counts = [[services.label(status)] + [data.count(status, t) for t in REPAIR_TYPES] + [data.count(status)] for status in STATUSES]
    counts.append([_("Total")] + [data.count(None, t) for t in REPAIR_TYPES] + [data.count()])
    homes = [
        [home.case.id, home.case.person.name, home.repairs, home.completed]
        + [services.money(home.approved.get(c, 0), c) for c in services.CURRENCIES]
        + [services.money(home.paid.get(c, 0), c) for c in services.CURRENCIES]
        for home in data.homes
    ]
    return workbook_download("housing-repairs", [
        Sheet(_("Repairs"), header, rows),
        Sheet(_("By status and type"), [_("Status")] + [services.label(t) for t in REPAIR_TYPES] + [_("Total")], counts),
        Sheet(_("Cost per home"), [_("Case"), _("Person"), _("Repairs"), _("Completed")]
              + [_("Approved (%(currency)s)", currency=c) for c in services.CURRENCIES]
              + [_("Paid (%(currency)s)", currency=c) for c in services.CURRENCIES], homes),
    ])


ROUTES = [
    repair_list, case_page, case_tab, assess_form, assess, propose, repair_page, quote_add, quote_approve, quote_send_back,
    payment_create, payment_reverse, progress_create, repair_complete, repair_cancel, settings_page, settings_save,
    reports, reports_csv, reports_xlsx,
]
