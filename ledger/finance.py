"""The finance officer's pages: chart of accounts, funds and donor income, budgets.

Reading needs ``ledger.view`` (admin, finance, auditor); changing needs ``ledger.post`` (admin,
finance). One user action is one database transaction: a refusal rolls back and re-renders the
form with its messages (422); success redirects (post/redirect/get).
"""

from __future__ import annotations

from datetime import date as Date
from functools import partial
from typing import Any

import litestar
from litestar import Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import select

from core.context import Context
from core.errors import ActionRefused, RecordNotFound
from core.i18n import gettext as _
from core.validation import parse
from core.web.deps import Ctx
from core.web.forms import Form
from core.web.rendering import act, render, see_other
from ledger import audit, funds
from ledger.hooks import POST, VIEW
from ledger.models import Account, BudgetLine, Fund
from ledger.money import MINOR_DIGITS, from_minor
from ledger.posting import close_account, general_book, open_account
from ledger.rates import Converter
from ledger.reports import balances
from ledger.schemas import AccountIn, BudgetLineIn, CloseAccountIn, DonorIncomeIn, FundIn

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True, status_code=303)

CURRENCIES = [(c, c) for c in ("USD", "KHR")] + [(c, c) for c in sorted(MINOR_DIGITS) if c not in ("USD", "KHR")]


def _day(value: str, default: Date) -> tuple[Date, str]:
    """A date from a query string (``default`` when blank) and the message when it is not one."""
    if not value:
        return default, ""
    try:
        return Date.fromisoformat(value.strip()), ""
    except ValueError:
        return default, _("Give the date as YYYY-MM-DD.")


def _currency(value: str) -> str:
    return value if value in MINOR_DIGITS else "USD"


# --- chart of accounts -----------------------------------------------------------------------------


def _chart_page(ctx: Context, book_id: int, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    book = audit.get_book(ctx, book_id)
    accounts = list(ctx.session.scalars(select(Account).where(Account.book_id == book.id).order_by(Account.name)))
    totals: dict[str, list[tuple[str, Any]]] = {}
    for (name, currency), minor in sorted(balances(ctx.session, book).items()):
        if minor:
            totals.setdefault(name, []).append((currency, from_minor(minor, currency)))
    return render(
        ctx, "ledger/accounts.html", status_code, book=book, accounts=accounts, totals=totals,
        can_post=ctx.user.can(POST), currencies=CURRENCIES, values=values, errors=errors,
    )


@get("/ledger/books/{book_id:int}/accounts", opt={"permission": VIEW}, name="ledger-accounts")
def chart(ctx: Ctx, book_id: FromPath[int]) -> Template:
    """The book's chart of accounts with balances, and the form to open an account."""
    return _chart_page(ctx, book_id, {"opened_on": ctx.today.isoformat(), "currencies": ["USD"]}, {})


@post("/ledger/books/{book_id:int}/accounts", opt={"permission": POST}, name="ledger-account-open")
def account_open(ctx: Ctx, book_id: FromPath[int], data: Form) -> Response[Any]:
    """Open an account in the book."""
    book = audit.get_book(ctx, book_id)

    def action() -> None:
        form = parse(AccountIn, data)
        open_account(ctx.session, book, form.name, form.currencies, form.opened_on)

    values = {**data, "currencies": data.get("currencies") if isinstance(data.get("currencies"), list) else [data.get("currencies")]}
    return act(ctx, action, f"/ledger/books/{book_id}/accounts", lambda e: _chart_page(ctx, book_id, values, _rename(e, currency="currencies"), 422))


@post("/ledger/accounts/{account_id:int}/close", opt={"permission": POST}, name="ledger-account-close")
def account_close(ctx: Ctx, account_id: FromPath[int], data: Form) -> Response[Any]:
    """Close an account: refused while it has a balance or entries after the date."""
    account, book = audit.get_account(ctx, account_id)

    def action() -> None:
        form = parse(CloseAccountIn, data)
        left = {c: v for (name, c), v in balances(ctx.session, book, form.closed_on).items() if name == account.name and v}
        if left:
            raise ActionRefused(_("Account %(account)s still has a balance: move it to another account before closing.", account=account.name), "closed_on")
        close_account(ctx.session, account, form.closed_on)

    def page(errors: dict[str, str]) -> Template:
        errors = {f"close-{account_id}" if k in ("closed_on", "__all__") else k: v for k, v in errors.items()}
        return _chart_page(ctx, book.id, {"opened_on": ctx.today.isoformat()}, errors, 422)

    return act(ctx, action, f"/ledger/books/{book.id}/accounts", page)


def _rename(errors: dict[str, str], **names: str) -> dict[str, str]:
    return {names.get(k.split(".")[0], k.split(".")[0]): v for k, v in errors.items()}


# --- funds ------------------------------------------------------------------------------------------


def _asset_accounts(ctx: Context) -> list[tuple[str, str]]:
    book = general_book(ctx.session, ctx.org_id)
    names = ctx.session.scalars(
        select(Account.name).where(Account.book_id == book.id, Account.name.like("Assets:%"), Account.closed_on.is_(None)).order_by(Account.name)
    )
    return [(n, n) for n in names]


def _funds_page(ctx: Context, on: str, currency: str, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    day, date_error = _day(on, ctx.today)
    currency = _currency(currency)
    rows = funds.fund_balances(ctx.session, ctx.org_id, day)
    totals: dict[int | None, Any] = {}
    rate_error = ""
    try:
        convert = Converter(ctx.session, ctx.org_id, currency, day)
        for row in rows:
            totals[row.fund.id if row.fund else None] = (
                convert.total(row.income), convert.total(row.spent), convert.total(row.balance)
            )
        rates = convert.used()
    except ActionRefused as exc:
        rate_error, rates = exc.message, []
    ctx.session.commit()  # general_book() may have opened the book on first use
    return render(
        ctx, "ledger/funds.html", status_code if not date_error else 400, rows=rows, totals=totals, on=day,
        currency=currency, currencies=CURRENCIES, rates=rates, rate_error=rate_error, date_error=date_error,
        can_post=ctx.user.can(POST), values=values, errors=errors,
    )


@get("/ledger/funds", opt={"permission": VIEW}, name="ledger-funds")
def fund_list(ctx: Ctx, on: FromQuery[str] = "", currency: FromQuery[str] = "USD") -> Template:
    """Every fund's income, spending and balance at a date, per currency and in one currency."""
    return _funds_page(ctx, on, currency, {"opened_on": ctx.today.isoformat(), "restricted": "on"}, {})


@post("/ledger/funds", opt={"permission": POST}, name="ledger-fund-create")
def fund_create(ctx: Ctx, data: Form) -> Response[Any]:
    """Create a fund (and open its income account)."""
    def action() -> Fund:
        form = parse(FundIn, data)
        return funds.create_fund(ctx.session, ctx.org_id, form.code, form.name, form.opened_on, donor=form.donor, restricted=form.restricted)

    return act(ctx, action, lambda fund: f"/ledger/funds/{fund.id}", lambda e: _funds_page(ctx, "", "USD", dict(data), e, 422))


def _fund_page(ctx: Context, fund_id: int, page: int, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    fund = audit.get_fund(ctx, fund_id)
    balance = funds.fund_balance(ctx.session, fund)
    entries, has_more = audit.fund_statement(ctx, fund, max(page, 1))
    lines = [line for line in funds.budget_lines(ctx.session, ctx.org_id, ctx.today.year) if line.fund_id == fund.id]
    return render(
        ctx, "ledger/fund.html", status_code, fund=fund, balance=balance, entries=entries, page=max(page, 1),
        has_more=has_more, lines=lines, can_post=ctx.user.can(POST), currencies=CURRENCIES,
        assets=_asset_accounts(ctx), leg_amount=audit.leg_amount, values=values, errors=errors,
    )


@get("/ledger/funds/{fund_id:int}", opt={"permission": VIEW}, name="ledger-fund")
def fund_detail(ctx: Ctx, fund_id: FromPath[int], page: FromQuery[int] = 1) -> Template:
    """A fund: its balance, its entries, this year's budget lines, the donor income form."""
    return _fund_page(ctx, fund_id, page, {"on": ctx.today.isoformat(), "currency": "USD"}, {})


@post("/ledger/funds/{fund_id:int}/income", opt={"permission": POST}, name="ledger-fund-income")
def fund_income(ctx: Ctx, fund_id: FromPath[int], data: Form) -> Response[Any]:
    """Record donor income into the fund (one balanced entry)."""
    fund = audit.get_fund(ctx, fund_id)

    def action() -> None:
        form = parse(DonorIncomeIn, data)
        funds.record_donor_income(
            ctx.session, fund, form.on, form.amount, form.currency, form.into, donor=form.donor,
            reference=form.reference, narration=form.narration, created_by=ctx.user.id,
        )

    def page(errors: dict[str, str]) -> Template:
        fields = {"date": "on", "postings": "into", "meta": "reference"}
        return _fund_page(ctx, fund_id, 1, dict(data), {fields.get(k, k): v for k, v in errors.items()}, 422)

    return act(ctx, action, f"/ledger/funds/{fund_id}", page)


# --- budget -------------------------------------------------------------------------------------------


def _expense_accounts(ctx: Context) -> list[tuple[str, str]]:
    """Every expense account of the general book and each of its parents (a line may cover a
    whole programme: ``Expenses:Programme:Vocational-Training`` and the accounts below it)."""
    book = general_book(ctx.session, ctx.org_id)
    names: set[str] = set()
    for name in ctx.session.scalars(select(Account.name).where(Account.book_id == book.id, Account.name.like("Expenses:%"))):
        parts = name.split(":")
        names.update(":".join(parts[:i]) for i in range(2, len(parts) + 1))
    return [(n, n) for n in sorted(names)]


def _budget_page(ctx: Context, year: int | None, currency: str, on: str, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    year = year if year is not None and 1900 <= year <= 9999 else ctx.today.year
    currency = _currency(currency)
    default_day = min(ctx.today, Date(year, 12, 31)) if year <= ctx.today.year else Date(year, 1, 1)
    day, date_error = _day(on, default_day)
    report, rate_error = None, ""
    try:
        report = funds.budget_vs_actual(ctx.session, ctx.org_id, year, currency, day)
    except ActionRefused as exc:
        rate_error = exc.message
    fund_options = [(f.code, f"{f.code} · {f.name}") for f in funds.funds(ctx.session, ctx.org_id)]
    ctx.session.commit()  # general_book() may have opened the book on first use
    return render(
        ctx, "ledger/budget.html", 400 if date_error else status_code, year=year, currency=currency, on=day,
        report=report, rate_error=rate_error, date_error=date_error, currencies=CURRENCIES,
        fund_options=fund_options, accounts=_expense_accounts(ctx), can_post=ctx.user.can(POST),
        values=values, errors=errors,
    )


@get("/ledger/budget", opt={"permission": VIEW}, name="ledger-budget")
def budget(ctx: Ctx, year: FromQuery[int | None] = None, currency: FromQuery[str] = "USD", on: FromQuery[str] = "") -> Template:
    """Budget against actual spending for a year, per fund and per programme, in one currency."""
    y = year or ctx.today.year
    return _budget_page(ctx, year, currency, on, {"year": y, "currency": "USD"}, {})


@post("/ledger/budget", opt={"permission": POST}, name="ledger-budget-set")
def budget_set(ctx: Ctx, data: Form) -> Response[Any]:
    """Set the budget of an expense account for a year (from one fund, or overall)."""
    def action() -> BudgetLine:
        form = parse(BudgetLineIn, data)
        fund = funds.get_fund(ctx.session, ctx.org_id, form.fund) if form.fund else None
        return funds.set_budget_line(
            ctx.session, ctx.org_id, form.year, form.account, form.amount, form.currency, fund=fund, updated_by=ctx.user.id,
        )

    year = str(data.get("year") or "")
    return act(ctx, action, lambda line: f"/ledger/budget?year={line.year}",
               lambda e: _budget_page(ctx, int(year) if year.isdecimal() else None, "USD", "", dict(data), e, 422))


@post("/ledger/budget/{line_id:int}/delete", opt={"permission": POST}, name="ledger-budget-delete")
def budget_delete(ctx: Ctx, line_id: FromPath[int]) -> Response[Any]:
    """Remove a budget line (planning data, not journal)."""
    line = ctx.session.scalar(select(BudgetLine).where(BudgetLine.id == line_id, BudgetLine.org_id == ctx.org_id))
    if line is None:
        raise RecordNotFound
    year = line.year
    ctx.session.delete(line)
    ctx.session.commit()
    return see_other(f"/ledger/budget?year={year}")


ROUTES = [chart, account_open, account_close, fund_list, fund_create, fund_detail, fund_income, budget, budget_set, budget_delete]
