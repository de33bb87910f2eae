"""Donor funds, donor income, fund balances and budget against actual (the general book).

A fund is money given for a purpose (restricted) or for the work at large (unrestricted). An
entry belongs to a fund when its metadata ``fund`` is the fund's code: income into the fund is
credited to its income account (``Income:Donations:<code>``), and a module charging an expense to
the fund puts ``fund`` in the entry's metadata. A fund's balance is its income less the expenses
charged to it (the Income and Expenses legs of its entries); assets and liabilities are shared.

Budgets are planning data: a line says how much the organisation plans to spend in a calendar
year on an expense account (and the accounts below it), from one fund or from all of them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date as Date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.i18n import gettext as _
from ledger.models import Account, Book, BudgetLine, Fund, JournalTransaction, Posting
from ledger.money import LedgerError, from_minor, to_minor
from ledger.posting import credit, debit, general_book, open_account, post
from ledger.rates import Converter

FUND_CODE = re.compile(r"^[A-Z0-9][A-Za-z0-9\-]{0,59}$")
INCOME_PREFIX = "Income:Donations:"


# --- funds ---------------------------------------------------------------------------------------


def funds(session: Session, org_id: int) -> list[Fund]:
    return list(session.scalars(select(Fund).where(Fund.org_id == org_id).order_by(Fund.code)))


def get_fund(session: Session, org_id: int, code: str) -> Fund:
    """The fund of the organisation with this code; a :class:`LedgerError` on ``fund`` when there
    is none."""
    fund = session.scalar(select(Fund).where(Fund.org_id == org_id, Fund.code == code))
    if fund is None:
        raise LedgerError(_("There is no fund %(fund)s in this organisation.", fund=code), "fund")
    return fund


def create_fund(
    session: Session, org_id: int, code: str, name: str, opened_on: Date, *,
    donor: str | None = None, restricted: bool = True, currencies: tuple[str, ...] = ("USD", "KHR"),
) -> Fund:
    """Create a fund and open its income account ``Income:Donations:<code>`` in the general book
    (or adopt that account when it is already open and no other fund has it)."""
    if not FUND_CODE.match(code):
        raise LedgerError(
            _("A fund's code starts with a capital letter or a digit, then letters, digits or '-' (at most 60)."), "code"
        )
    if session.scalar(select(Fund.id).where(Fund.org_id == org_id, Fund.code == code)) is not None:
        raise LedgerError(_("The organisation already has a fund %(fund)s.", fund=code), "code")
    if not name.strip():
        raise LedgerError(_("This field is required."), "name")
    book = general_book(session, org_id)
    income = INCOME_PREFIX + code
    if session.scalar(select(Account.id).where(Account.book_id == book.id, Account.name == income)) is None:
        open_account(session, book, income, currencies, opened_on)
    fund = Fund(
        org_id=org_id, code=code, name=name.strip(), donor=(donor or "").strip() or None,
        restricted=restricted, income_account=income, opened_on=opened_on,
    )
    session.add(fund)
    session.flush()
    return fund


def record_donor_income(
    session: Session, fund: Fund, on: Date, amount: Decimal, currency: str, into: str, *,
    donor: str | None = None, reference: str | None = None, narration: str | None = None,
    created_by: int | None = None,
):
    """Post money received (or pledged, into a receivable) for ``fund``: debit ``into`` (an asset
    account of the general book), credit the fund's income account. Returns the entry."""
    if not into.startswith("Assets:"):
        raise LedgerError(_("Donor income is received into an asset account (bank, cash or a receivable)."), "into")
    book = general_book(session, fund.org_id)
    meta: dict[str, Any] = {"fund": fund.code, "plugin": "ledger"}
    if reference and reference.strip():
        meta["reference"] = reference.strip()
    payee = (donor or "").strip() or fund.donor
    text = (narration or "").strip() or _("Donor income into %(fund)s", fund=fund.name)
    return post(
        session, book, on, text, [debit(into, amount, currency), credit(fund.income_account, amount, currency)],
        payee=payee, meta=meta, links=[f"fund-{fund.code}"], created_by=created_by,
    )


@dataclass
class FundBalance:
    """What a fund received and spent per currency through a date (``fund`` None: entries that
    name no fund)."""

    fund: Fund | None
    income: dict[str, Decimal] = field(default_factory=dict)
    spent: dict[str, Decimal] = field(default_factory=dict)

    @property
    def balance(self) -> dict[str, Decimal]:
        currencies = sorted(set(self.income) | set(self.spent))
        return {c: self.income.get(c, Decimal(0)) - self.spent.get(c, Decimal(0)) for c in currencies}


def _income_and_spending(session: Session, book: Book, *conditions: Any) -> list[tuple[str | None, str, str, int]]:
    """``(fund, "Income"|"Expenses", currency, sum of amounts)`` over the book's entries."""
    root = case((Account.name.like("Income:%"), "Income"), else_="Expenses")
    return [
        (fund, kind, currency, int(total))
        for fund, kind, currency, total in session.execute(
            select(JournalTransaction.fund, root, Posting.currency, func.sum(Posting.amount_minor))
            .join(Posting, Posting.transaction_id == JournalTransaction.id)
            .join(Account, Account.id == Posting.account_id)
            .where(
                JournalTransaction.book_id == book.id,
                Account.name.like("Income:%") | Account.name.like("Expenses:%"),
                *conditions,
            )
            .group_by(JournalTransaction.fund, root, Posting.currency)
        )
    ]


def _add(target: FundBalance, kind: str, currency: str, total: int) -> None:
    """Add one ``_income_and_spending`` row to ``target`` (income is credited, so negated)."""
    if kind == "Income":
        target.income[currency] = target.income.get(currency, Decimal(0)) - from_minor(total, currency)
    else:
        target.spent[currency] = target.spent.get(currency, Decimal(0)) + from_minor(total, currency)


def fund_balances(session: Session, org_id: int, on: Date | None = None) -> list[FundBalance]:
    """Every fund's income, spending and balance through ``on`` (inclusive), then the entries
    that name no fund (unassigned), computed in SQL from the general book."""
    book = general_book(session, org_id)
    by_code = {f.code: FundBalance(f) for f in funds(session, org_id)}
    unassigned = FundBalance(None)
    conditions = [JournalTransaction.date <= on] if on is not None else []
    for code, kind, currency, total in _income_and_spending(session, book, *conditions):
        _add(by_code.get(code, unassigned) if code is not None else unassigned, kind, currency, total)
    return [*by_code.values(), unassigned]


def fund_balance(session: Session, fund: Fund, on: Date | None = None) -> FundBalance:
    """One fund's income, spending and balance through ``on`` (inclusive; default: everything)."""
    book = general_book(session, fund.org_id)
    balance = FundBalance(fund)
    conditions = [JournalTransaction.fund == fund.code] + ([JournalTransaction.date <= on] if on is not None else [])
    for _code, kind, currency, total in _income_and_spending(session, book, *conditions):
        _add(balance, kind, currency, total)
    return balance


def fund_available(session: Session, fund: Fund, currency: str, on: Date) -> Decimal:
    """The fund's balance on ``on`` in ``currency`` (other currencies converted at that day's rates)."""
    return Converter(session, fund.org_id, currency, on).total(fund_balance(session, fund, on).balance)


def require_available(session: Session, fund: Fund, amount: Decimal, currency: str, on: Date) -> None:
    """Refuse (``LedgerError`` on ``amount``) when a restricted fund has less than ``amount`` left.

    Modules call this before charging an expense to a fund; an unrestricted fund may run into
    deficit (the organisation's other money covers it)."""
    if not fund.restricted:
        return
    available = fund_available(session, fund, currency, on)
    if available < amount:
        raise LedgerError(
            _(
                "Fund %(fund)s has %(available)s %(currency)s left on %(date)s, less than %(amount)s %(currency)s.",
                fund=fund.code, available=available, currency=currency, date=on, amount=amount,
            ),
            "amount",
        )


# --- budgets -------------------------------------------------------------------------------------


def budget_lines(session: Session, org_id: int, year: int) -> list[BudgetLine]:
    return list(
        session.scalars(
            select(BudgetLine).where(BudgetLine.org_id == org_id, BudgetLine.year == year).order_by(BudgetLine.account, BudgetLine.id)
        )
    )


def set_budget_line(
    session: Session, org_id: int, year: int, account: str, amount: Decimal, currency: str, *,
    fund: Fund | None = None, updated_by: int | None = None,
) -> BudgetLine:
    """Set (create or change) the budget of ``account`` for ``year`` (from ``fund``, or overall)."""
    if not 1900 <= year <= 9999:
        raise LedgerError(_("Give the year with four digits."), "year")
    if not account.startswith("Expenses"):
        raise LedgerError(_("A budget is set on an expense account."), "account")
    book = general_book(session, org_id)
    below = session.scalar(
        select(func.count()).select_from(Account).where(
            Account.book_id == book.id, (Account.name == account) | Account.name.like(account + ":%")
        )
    )
    if not below:
        raise LedgerError(_("No account %(account)s (or below it) is open in the general book.", account=account), "account")
    minor = to_minor(amount, currency)
    if minor <= 0:
        raise LedgerError(_("The amount must be more than zero."), "amount")
    fund_id = fund.id if fund is not None else None
    line = session.scalar(
        select(BudgetLine).where(
            BudgetLine.org_id == org_id, BudgetLine.year == year, BudgetLine.account == account,
            BudgetLine.fund_id.is_(None) if fund_id is None else BudgetLine.fund_id == fund_id,
        )
    )
    if line is None:
        line = BudgetLine(org_id=org_id, year=year, fund_id=fund_id, account=account)
        session.add(line)
    line.currency, line.amount_minor, line.updated_by = currency, minor, updated_by
    session.flush()
    return line


@dataclass(frozen=True)
class BudgetRow:
    """One budget line against what was spent, in the report's currency."""

    label: str
    account: str
    fund: Fund | None
    budget: Decimal
    actual: Decimal
    line: BudgetLine | None = None

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.actual

    @property
    def used_percent(self) -> int | None:
        return None if not self.budget else int((self.actual * 100 / self.budget).to_integral_value())


@dataclass(frozen=True)
class BudgetReport:
    year: int
    currency: str
    on: Date
    by_fund: list[tuple[Fund | None, list[BudgetRow], BudgetRow]]
    by_programme: list[BudgetRow]
    unbudgeted: list[tuple[str, Decimal]]
    rates: list[tuple[str, str, Decimal, Date]]


def _covers(prefix: str, account: str) -> bool:
    return account == prefix or account.startswith(prefix + ":")


def budget_vs_actual(session: Session, org_id: int, year: int, currency: str, on: Date) -> BudgetReport:
    """Budget against actual spending in ``year`` (through ``on`` when ``on`` falls in it), per
    fund and per programme (budgeted account), in ``currency`` at the rates of ``on``.

    Actual spending is the Expenses legs of the general book's entries dated in the year; a line
    of a fund counts only the entries charged to that fund, an overall line every entry."""
    book = general_book(session, org_id)
    convert = Converter(session, org_id, currency, on)
    end = min(Date(year, 12, 31), on) if on.year == year else Date(year, 12, 31)
    spent: dict[tuple[str | None, str], dict[str, Decimal]] = defaultdict(dict)
    for fund_code, account, cur, total in session.execute(
        select(JournalTransaction.fund, Account.name, Posting.currency, func.sum(Posting.amount_minor))
        .join(Posting, Posting.transaction_id == JournalTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            JournalTransaction.book_id == book.id, Account.name.like("Expenses:%"),
            JournalTransaction.date >= Date(year, 1, 1), JournalTransaction.date <= end,
        )
        .group_by(JournalTransaction.fund, Account.name, Posting.currency)
    ):
        spent[(fund_code, account)][cur] = from_minor(int(total), cur)

    def actual(prefix: str, fund: Fund | None) -> Decimal:
        return sum(
            (convert.total(amounts) for (code, account), amounts in spent.items()
             if _covers(prefix, account) and (fund is None or code == fund.code)),
            Decimal(0),
        )

    lines = budget_lines(session, org_id, year)
    rows = [
        BudgetRow(line.account, line.account, line.fund, convert(from_minor(line.amount_minor, line.currency), line.currency),
                  actual(line.account, line.fund), line)
        for line in lines
    ]
    by_fund = []
    for fund in sorted({r.fund for r in rows if r.fund is not None}, key=lambda f: f.code) + ([None] if any(r.fund is None for r in rows) else []):
        group = [r for r in rows if r.fund == fund]
        label = fund.name if fund is not None else _("All funds")
        by_fund.append((fund, group, BudgetRow(label, "", fund, sum((r.budget for r in group), Decimal(0)), sum((r.actual for r in group), Decimal(0)))))
    by_programme = [
        BudgetRow(account, account, None, sum((r.budget for r in rows if r.account == account), Decimal(0)), actual(account, None))
        for account in sorted({r.account for r in rows})
    ]
    budgeted = {r.account for r in rows}
    unbudgeted: dict[str, Decimal] = defaultdict(Decimal)
    for (_code, account), amounts in spent.items():
        if not any(_covers(prefix, account) for prefix in budgeted):
            unbudgeted[account] += convert.total(amounts)
    return BudgetReport(
        year, currency, on, by_fund, by_programme,
        sorted((a, v) for a, v in unbudgeted.items() if v), convert.used(),
    )
