"""The ledger's audit pages (``ledger.view``) and its two forms (``ledger.post``): close a period,
reverse an entry.

Handlers are thin, like core's: read the input, call one query or one ledger action, commit once,
then redirect (post/redirect/get) or re-render the form with field-level messages. A book,
account, transaction or case of another organisation answers 404.
"""

from __future__ import annotations

from datetime import date as Date
from functools import partial
from typing import Any

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import select

from core.errors import ActionRefused, InvalidInput, RecordNotFound
from core.i18n import gettext as _
from core.web.deps import Ctx
from core.web.forms import Form
from core.web.rendering import act, render, see_other
from ledger import audit
from ledger.check import latest_runs, run_and_record
from ledger.documents import documents_of
from ledger.export import book_archive, book_filename, book_text
from ledger.hooks import POST, VIEW
from ledger.models import CheckRun, JournalTransaction
from ledger.money import MINOR_DIGITS
from ledger.posting import close_period, reverse

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True, status_code=303)


def _date(value: Any) -> Date | None:
    try:
        return Date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


@get("/ledger", opt={"permission": VIEW}, name="ledger-books")
def book_list(ctx: Ctx) -> Template:
    """The organisation's books."""
    return render(ctx, "ledger/books.html", books=audit.books(ctx), latest=latest_runs(ctx.session, ctx.org_id))


@get("/ledger/books/{book_id:int}", opt={"permission": VIEW}, name="ledger-trial-balance")
def trial_balance_page(ctx: Ctx, book_id: FromPath[int], on: FromQuery[str] = "", currency: FromQuery[str] = "") -> Template:
    """The trial balance of a book at a date (default: today), as recorded (per currency) or with
    every balance converted into one currency at that date's rates."""
    book = audit.get_book(ctx, book_id)
    day = _date(on)
    error = _("Give the date as YYYY-MM-DD.") if on and day is None else ""
    day = day or ctx.today
    tb = audit.trial_balance_of(ctx, book, day)
    converted, rate_error = None, ""
    if currency in MINOR_DIGITS:
        try:
            converted = audit.converted_trial_balance(ctx, book, tb, currency, day)
        except ActionRefused as exc:
            rate_error = exc.message
    return render(
        ctx, "ledger/trial_balance.html", 400 if error else 200, book=book, on=day, error=error, tb=tb,
        currency=currency if currency in MINOR_DIGITS else "", converted=converted, rate_error=rate_error,
    )


@get("/ledger/accounts/{account_id:int}", opt={"permission": VIEW}, name="ledger-journal")
def account_journal(ctx: Ctx, account_id: FromPath[int], page: FromQuery[int] = 1) -> Template:
    """An account's journal with its running balance, 50 lines a page."""
    account, book = audit.get_account(ctx, account_id)
    page = max(page, 1)
    lines, has_more = audit.journal(ctx, account, page)
    return render(ctx, "ledger/journal.html", account=account, book=book, lines=lines, page=page, has_more=has_more)


def _transaction_page(ctx: Any, txn_id: int, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    txn, book = audit.get_transaction(ctx, txn_id)
    reversed_by = audit.reversal_of(ctx, txn)
    return render(
        ctx,
        "ledger/transaction.html",
        status_code,
        txn=txn,
        book=book,
        reversed_by=reversed_by,
        documents=documents_of(ctx.session, [txn.id]).get(txn.id, []),
        created_by=audit.user_name(ctx, txn.created_by),
        can_reverse=ctx.user.can(POST) and txn.reverses_id is None and reversed_by is None,
        leg_amount=audit.leg_amount,
        values=values,
        errors=errors,
    )


@get("/ledger/transactions/{txn_id:int}", opt={"permission": VIEW}, name="ledger-transaction")
def transaction_detail(ctx: Ctx, txn_id: FromPath[int]) -> Template:
    """One entry: postings, metadata, links, hash; its reversal, and the form to reverse it."""
    return _transaction_page(ctx, txn_id, {"date": ctx.today.isoformat(), "reason": ""}, {})


@post("/ledger/transactions/{txn_id:int}/reverse", opt={"permission": POST}, name="ledger-reverse")
def transaction_reverse(ctx: Ctx, txn_id: FromPath[int], data: Form) -> Response[Any]:
    """Post the reversal of an entry, or show the form's messages (nothing written)."""
    txn, _book = audit.get_transaction(ctx, txn_id)

    def action() -> JournalTransaction:
        errors: dict[str, str] = {}
        day = _date(data.get("date"))
        reason = str(data.get("reason") or "").strip()
        if day is None:
            errors["date"] = _("Give the date as YYYY-MM-DD.")
        if not reason:
            errors["reason"] = _("Give the reason for the reversal.")
        if errors:
            raise InvalidInput(errors)
        try:
            return reverse(ctx.session, txn, day, reason, created_by=ctx.user.id)  # type: ignore[arg-type]
        except ActionRefused as exc:
            raise InvalidInput({exc.field if exc.field in ("date", "reason") else "__all__": exc.message}) from None

    return act(ctx, action, lambda reversal: f"/ledger/transactions/{reversal.id}",
               lambda errors: _transaction_page(ctx, txn_id, dict(data), errors, 422))


@get("/ledger/books/{book_id:int}/reversals", opt={"permission": VIEW}, name="ledger-reversals")
def reversal_list(ctx: Ctx, book_id: FromPath[int]) -> Template:
    """Every reversal of a book, with the entry it reverses and the reason."""
    book = audit.get_book(ctx, book_id)
    return render(ctx, "ledger/reversals.html", book=book, rows=audit.reversals(ctx, book))


def _periods_page(ctx: Any, book_id: int, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    book = audit.get_book(ctx, book_id)
    return render(
        ctx, "ledger/periods.html", status_code, book=book, rows=audit.closed_periods(ctx, book),
        can_close=ctx.user.can(POST), values=values, errors=errors,
    )


@get("/ledger/books/{book_id:int}/periods", opt={"permission": VIEW}, name="ledger-periods")
def period_list(ctx: Ctx, book_id: FromPath[int]) -> Template:
    """The book's closed periods and (for those who may) the form to close one."""
    return _periods_page(ctx, book_id, {"through": ""}, {})


@post("/ledger/books/{book_id:int}/periods", opt={"permission": POST}, name="ledger-close-period")
def period_close(ctx: Ctx, book_id: FromPath[int], data: Form) -> Response[Any]:
    """Close the book through a date, or show the form's messages (nothing written)."""
    book = audit.get_book(ctx, book_id)

    def action() -> None:
        through = _date(data.get("through"))
        if through is None:
            raise ActionRefused(_("Give the date as YYYY-MM-DD."), "through")
        if through > ctx.today:
            raise ActionRefused(_("A period can be closed only once it has ended: choose today or an earlier date."), "through")
        try:
            close_period(ctx.session, book, through, closed_by=ctx.user.id)
        except ActionRefused as exc:
            raise ActionRefused(exc.message, "through") from None

    return act(ctx, action, f"/ledger/books/{book_id}/periods", lambda errors: _periods_page(ctx, book_id, dict(data), errors, 422))


@get("/ledger/books/{book_id:int}/export", opt={"permission": VIEW}, name="ledger-export")
def book_export(ctx: Ctx, book_id: FromPath[int], year: FromQuery[int | None] = None) -> Response[str]:
    """The book as a beancount file (a download), or one calendar year of it."""
    book = audit.get_book(ctx, book_id)
    filename = book_filename(ctx.organisation.slug, book, _year(year))
    return Response(
        book_text(ctx.session, book, year),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@get("/ledger/books/{book_id:int}/export.zip", opt={"permission": VIEW}, name="ledger-export-zip")
def book_export_zip(ctx: Ctx, book_id: FromPath[int], year: FromQuery[int | None] = None) -> Response[bytes]:
    """The book with the documents of its entries (invoices, receipts), as a ZIP."""
    book = audit.get_book(ctx, book_id)
    filename = book_filename(ctx.organisation.slug, book, _year(year)).removesuffix(".beancount") + ".zip"
    return Response(
        book_archive(ctx.session, ctx.organisation, book, year),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _year(year: int | None) -> int | None:
    if year is not None and not 1900 <= year <= 9999:
        raise ActionRefused(_("Give the year with four digits."), "year")
    return year


@get("/ledger/cases/{case_id:int}", opt={"permission": VIEW}, name="ledger-case")
def case_statement(request: Request[Any, Any, Any], ctx: Ctx, case_id: FromPath[int]) -> Template:
    """Every entry whose metadata names this case, in every book of the organisation (also the
    case page's "Ledger" tab, loaded with htmx)."""
    case = audit.get_case(ctx, case_id)
    rows = audit.case_statement(ctx, case)
    context = {"case": case, "rows": rows, "totals": audit.statement_totals(rows), "leg_amount": audit.leg_amount}
    if request.htmx:  # type: ignore[attr-defined]
        return Template("ledger/_case.html", context=context)
    return render(ctx, "ledger/case.html", **context)


@get("/ledger/grants/{grant_id:int}", opt={"permission": VIEW}, name="ledger-grant")
def grant_statement(ctx: Ctx, grant_id: FromPath[int]) -> Template:
    """Every entry whose metadata names this grant, in every book of the organisation, with the
    total per account (what was disbursed, bought, repaid or written off)."""
    rows = audit.grant_statement(ctx, grant_id)
    if not rows:
        raise RecordNotFound  # no entry of this organisation names the grant
    return render(
        ctx, "ledger/grant.html", grant_id=grant_id, rows=rows, totals=audit.statement_totals(rows), leg_amount=audit.leg_amount,
    )


def _checks_page(ctx: Any, status_code: int = 200) -> Template:
    runs = ctx.session.scalars(
        select(CheckRun).where(CheckRun.org_id == ctx.org_id).order_by(CheckRun.id.desc()).limit(20)
    ).all()
    names = {u: audit.user_name(ctx, u) for u in {r.ran_by for r in runs if r.ran_by}}
    return render(ctx, "ledger/checks.html", status_code, latest=latest_runs(ctx.session, ctx.org_id), runs=runs, names=names)


@get("/ledger/checks", opt={"permission": VIEW}, name="ledger-checks")
def checks(ctx: Ctx) -> Template:
    """The latest export check (beancount's loader) and chain check of the organisation's books,
    and the recent runs."""
    return _checks_page(ctx)


@post("/ledger/checks", opt={"permission": VIEW}, name="ledger-checks-run")
def checks_run(ctx: Ctx) -> Response[Any]:
    """Run both checks now and record their results (auditors may: it writes no journal row)."""
    for kind in ("check", "verify"):
        run_and_record(ctx.session, ctx.organisation, kind, ran_by=ctx.user.id, source="web")
    ctx.session.commit()
    return see_other("/ledger/checks")


ROUTES = [
    book_list, trial_balance_page, account_journal, transaction_detail, transaction_reverse,
    reversal_list, period_list, period_close, book_export, book_export_zip, case_statement, grant_statement, checks, checks_run,
]
