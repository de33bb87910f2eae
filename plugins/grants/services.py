"""The grants module's rules: a business plan, its review, paying the grant out in tranches and
in kind, the interest-free loan part and its repayment or write-off, and the microbusiness's
monthly figures in its own book.

Every query is limited to ``ctx.org_id``. Services add and flush, and post their journal entries
through ``ledger.api`` in the same session; the route commits once, so a domain change and its
entries are written together or not at all (``tests/plugins/grants/test_atomic.py``).

Amounts are ``Decimal`` in Python and integer minor units in the database. A grant has one
currency (USD or KHR); tranches, loan, repayments and the business's monthly figures are kept in
it. Money may leave the bank or cash box in the other currency, converted at the day's recorded
rate (:func:`_convert`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.plugin_api import ActionRefused, Case, CaseStatus, Context, Organisation, Person, RecordNotFound, User, by_month, format_date, record_event
from core.plugin_api import gettext as _
from ledger.api import (
    Book,
    ClosedPeriod,
    Fund,
    JournalTransaction,
    LedgerError,
    Leg,
    balances,
    create_book,
    credit,
    debit,
    ensure_account,
    find_account,
    from_minor,
    general_book,
    get_fund,
    open_account,
    post,
    rate_on,
    record_donor_income,
    require_available,
    reverse,
    to_minor,
)
from plugins.grants.models import CostItem, Grant, Instalment, Movement, MonthFigures, Tranche
from plugins.grants.schemas import (
    DIGITS,
    ApprovedEvent,
    ApproveIn,
    CorrectIn,
    DisburseIn,
    MoneyEvent,
    MonthEvent,
    MonthIn,
    PaymentIn,
    PlanEvent,
    PlanIn,
    PurchaseIn,
    RejectedEvent,
    RejectIn,
    RepaymentIn,
    WriteOffEvent,
    WriteOffIn,
)

VIEW = "grants.view"
PLAN = "grants.plan"
APPROVE = "grants.approve"
DISBURSE = "grants.disburse"
BUSINESS = "grants.business"

PLAN_SUBMITTED = "grants.plan_submitted"
PLAN_REJECTED = "grants.plan_rejected"
APPROVED = "grants.approved"
TRANCHE_DISBURSED = "grants.tranche_disbursed"
PURCHASE_RECORDED = "grants.purchase_recorded"
REPAYMENT_RECORDED = "grants.repayment_recorded"
WRITTEN_OFF = "grants.written_off"
WRITE_OFF_REVERSED = "grants.write_off_reversed"
BUSINESS_MONTH = "grants.business_month"

EXPENSE = "Expenses:Programme:Grants"
WRITTEN_OFF_ACCOUNT = "Expenses:Programme:Grants:Written-Off"
RECEIVABLE = "Assets:Receivable:Grant-Loans"
BUSINESS_ACCOUNTS = (
    "Assets:Cash", "Assets:Stock", "Assets:Equipment", "Income:Sales", "Expenses:Costs",
    "Equity:Owner:Grant", "Equity:Owner:Contribution", "Equity:Owner:Drawings",
)
CURRENCIES = ("USD", "KHR")
PAGE = 50
PLAN_ROWS = 8
"""Blank rows of cost items (and of tranches and instalments) the forms offer without JavaScript."""


def _require(ctx: Context, permission: str) -> None:
    if not ctx.user.can(permission):
        raise ActionRefused(_("Your role does not allow this."))


def money(minor: int | None, currency: str | None) -> Decimal:
    """Minor units to a ``Decimal`` of the currency's precision."""
    return from_minor(minor or 0, currency or "USD")


def _minor(amount: Decimal, currency: str, field_name: str) -> int:
    try:
        return to_minor(amount, currency)
    except LedgerError:
        raise ActionRefused(
            _("US dollars have at most 2 decimal places.") if currency == "USD" else _("Riel are whole numbers."), field_name
        ) from None


def _refusal(exc: LedgerError, fields: dict[str, str]) -> ActionRefused:
    """A ledger refusal with its field renamed to the form's (``date`` -> ``paid_on`` ...)."""
    return ActionRefused(exc.message, fields.get(exc.field or "", "__all__"))


# --- plans -----------------------------------------------------------------------------------------


def get_grant(ctx: Context, grant_id: int) -> Grant:
    """The grant (or plan) with this id in the current organisation, or :class:`RecordNotFound`."""
    grant = ctx.session.scalar(select(Grant).where(Grant.id == grant_id, Grant.org_id == ctx.org_id))
    if grant is None:
        raise RecordNotFound
    return grant


def case_of(ctx: Context, grant: Grant) -> Case:
    case = ctx.session.scalar(select(Case).where(Case.id == grant.case_id, Case.org_id == ctx.org_id))
    assert case is not None, "a grant's case is in its organisation"
    return case


def create_plan(ctx: Context, case: Case, data: PlanIn) -> Grant:
    """Record a business plan (status ``submitted``) and write ``grants.plan_submitted``.

    :raises ActionRefused: the case is closed.
    """
    _require(ctx, PLAN)
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: reopen it before recording a business plan."))
    grant = Grant(
        org_id=ctx.org_id, case_id=case.id, status="submitted", business_type=data.business_type,
        description=data.description, village=data.village, commune=data.commune, district=data.district,
        province=data.province, certificate_number=data.certificate_number.upper(),
        expected_income_minor=to_minor(data.expected_income, data.expected_income_currency),
        expected_income_currency=data.expected_income_currency,
        contribution_minor=to_minor(data.contribution, data.contribution_currency), contribution_currency=data.contribution_currency,
        submitted_on=ctx.today, submitted_by_id=ctx.user.id,
    )
    grant.items = [
        CostItem(org_id=ctx.org_id, position=n, description=item.description, amount_minor=to_minor(item.amount, item.currency), currency=item.currency)
        for n, item in enumerate(data.items, start=1)
    ]
    ctx.session.add(grant)
    ctx.session.flush()
    _event(ctx, case, PLAN_SUBMITTED, ctx.today, data.description[:200], PlanEvent(grant_id=grant.id, business_type=data.business_type))
    return grant


def reject(ctx: Context, grant: Grant, data: RejectIn) -> None:
    """Reject a submitted plan with the reason (``grants.plan_rejected``)."""
    _require(ctx, APPROVE)
    if grant.status != "submitted":
        raise ActionRefused(_("Only a submitted plan can be approved or rejected."))
    grant.status, grant.decided_on, grant.decided_by_id, grant.reject_reason = "rejected", ctx.today, ctx.user.id, data.reason
    ctx.session.flush()
    _event(ctx, case_of(ctx, grant), PLAN_REJECTED, ctx.today, data.reason[:200], RejectedEvent(grant_id=grant.id, reason=data.reason))


def tranche_amounts(data: ApproveIn) -> list[int]:
    """The tranches in minor units of the grant's currency; percentages are of the grant amount.

    When every tranche is a percentage and they make 100%, rounding is given to the last one so
    that the sum is exact; otherwise the tranches must add up to the grant amount exactly.
    """
    total = _minor(data.amount, data.currency, "amount")
    amounts: list[int] = []
    percents: list[Decimal] = []
    for n, tranche in enumerate(data.tranches):
        if tranche.share.endswith("%"):
            percent = Decimal(tranche.share[:-1].replace(",", ""))
            percents.append(percent)
            amounts.append(int((total * percent / 100).to_integral_value(rounding=ROUND_HALF_EVEN)))
        else:
            amounts.append(_minor(Decimal(tranche.share.replace(",", "")), data.currency, f"tranches.{n}.share"))
    if len(percents) == len(amounts) and sum(percents) == 100:
        amounts[-1] += total - sum(amounts)
    if any(a <= 0 for a in amounts) or sum(amounts) != total:
        raise ActionRefused(
            _("The tranches add up to %(sum)s, not to the grant amount %(amount)s.",
              sum=money(sum(amounts), data.currency), amount=data.amount),
            "tranches",
        )
    return amounts


def approve(ctx: Context, grant: Grant, data: ApproveIn) -> Book:
    """Approve a submitted plan: amount, fund, tranches and the repayable part with its schedule;
    create the microbusiness's own book and open its accounts. Writes ``grants.approved``."""
    _require(ctx, APPROVE)
    if grant.status != "submitted":
        raise ActionRefused(_("Only a submitted plan can be approved or rejected."))
    try:
        fund = get_fund(ctx.session, ctx.org_id, data.fund)
    except LedgerError:
        raise ActionRefused(_("Choose one of the options."), "fund") from None
    amounts = tranche_amounts(data)
    repayable = _minor(data.repayable, data.currency, "repayable")
    instalments = [(i.due_on, _minor(i.amount, data.currency, f"instalments.{n}.amount")) for n, i in enumerate(data.instalments)]
    if repayable and sum(a for _d, a in instalments) != repayable:
        raise ActionRefused(
            _("The repayment schedule adds up to %(sum)s, not to the repayable part %(amount)s.",
              sum=money(sum(a for _d, a in instalments), data.currency), amount=data.repayable),
            "instalments",
        )
    if not repayable and instalments:
        raise ActionRefused(_("A repayment schedule needs a repayable part."), "repayable")
    if any(due < ctx.today for due, _a in instalments):
        raise ActionRefused(_("Repayments cannot fall due before the approval."), "instalments")
    grant.status, grant.decided_on, grant.decided_by_id = "approved", ctx.today, ctx.user.id
    grant.amount_minor, grant.currency, grant.fund_code, grant.repayable_minor = sum(amounts), data.currency, fund.code, repayable
    grant.tranches = [
        Tranche(org_id=ctx.org_id, position=n, amount_minor=amount, condition=t.condition)
        for n, (amount, t) in enumerate(zip(amounts, data.tranches, strict=True), start=1)
    ]
    grant.instalments = [Instalment(org_id=ctx.org_id, due_on=due, amount_minor=amount) for due, amount in sorted(instalments)]
    book = create_book(ctx.session, ctx.org_id, f"Microbusiness of grant {grant.id}", kind="microbusiness", reference=f"grant-{grant.id}")
    for name in BUSINESS_ACCOUNTS:
        open_account(ctx.session, book, name, CURRENCIES, ctx.today)
    grant.book_id = book.id
    ctx.session.flush()
    payload = ApprovedEvent(grant_id=grant.id, amount=str(data.amount), currency=data.currency, fund=fund.code)
    _event(ctx, case_of(ctx, grant), APPROVED, ctx.today, "", payload)
    return book


def funds(ctx: Context) -> list[Fund]:
    return list(ctx.session.scalars(select(Fund).where(Fund.org_id == ctx.org_id).order_by(Fund.code)))


# --- where the money stands ------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """What was given and what is owed on a grant, in minor units of its currency."""

    grant: Grant
    given: int = 0  # tranches and purchases
    lent: int = 0  # their repayable shares
    repaid: int = 0
    written_off: int = 0  # net of reversed write-offs
    first_paid_on: date | None = None

    @property
    def outstanding(self) -> int:
        return self.lent - self.repaid - self.written_off

    @property
    def left_to_give(self) -> int:
        return (self.grant.amount_minor or 0) - self.given

    @property
    def stage(self) -> str:
        """submitted, rejected, approved, partly_disbursed, disbursed, repaying, repaid, written_off."""
        grant = self.grant
        if grant.status != "approved":
            return grant.status
        if self.written_off > 0:
            return "written_off"
        if self.repaid > 0 and self.outstanding > 0:
            return "repaying"
        if self.given == 0:
            return "approved"
        if self.given < (grant.amount_minor or 0):
            return "partly_disbursed"
        if grant.repayable_minor and self.outstanding == 0:
            return "repaid"
        return "disbursed"

    # the same figures as Decimals of the grant's currency, for pages
    @property
    def given_amount(self) -> Decimal:
        return money(self.given, self.grant.currency)

    @property
    def lent_amount(self) -> Decimal:
        return money(self.lent, self.grant.currency)

    @property
    def repaid_amount(self) -> Decimal:
        return money(self.repaid, self.grant.currency)

    @property
    def written_off_amount(self) -> Decimal:
        return money(self.written_off, self.grant.currency)

    @property
    def outstanding_amount(self) -> Decimal:
        return money(self.outstanding, self.grant.currency)

    @property
    def left_to_give_amount(self) -> Decimal:
        return money(self.left_to_give, self.grant.currency)


def positions(ctx: Context, grants: list[Grant]) -> dict[int, Position]:
    """:class:`Position` of each grant, in one query."""
    sums: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    if grants:
        rows = ctx.session.execute(
            select(Movement.grant_id, Movement.kind, func.sum(Movement.amount_minor), func.sum(Movement.loan_minor), func.min(Movement.day))
            .where(Movement.org_id == ctx.org_id, Movement.grant_id.in_([g.id for g in grants]))
            .group_by(Movement.grant_id, Movement.kind)
        ).all()
        for grant_id, kind, amount, loan, first in rows:
            sums[grant_id][kind] = (int(amount), int(loan), first)
    out = {}
    for grant in grants:
        s = sums.get(grant.id, {})
        paid = [s[k] for k in ("tranche", "purchase") if k in s]
        out[grant.id] = Position(
            grant,
            given=sum(p[0] for p in paid),
            lent=sum(p[1] for p in paid),
            repaid=s.get("repayment", (0, 0, None))[1],
            written_off=s.get("write_off", (0, 0, None))[1] - s.get("write_off_reversal", (0, 0, None))[1],
            first_paid_on=min((p[2] for p in paid), default=None),
        )
    return out


def position(ctx: Context, grant: Grant) -> Position:
    return positions(ctx, [grant])[grant.id]


def movements(ctx: Context, grant: Grant) -> list[Movement]:
    return list(ctx.session.scalars(
        select(Movement).where(Movement.org_id == ctx.org_id, Movement.grant_id == grant.id).order_by(Movement.day, Movement.id)
    ))


def next_tranche(ctx: Context, grant: Grant) -> Tranche | None:
    paid = set(ctx.session.scalars(select(Movement.tranche_id).where(Movement.org_id == ctx.org_id, Movement.grant_id == grant.id, Movement.tranche_id.is_not(None))))
    return next((t for t in grant.tranches if t.id not in paid), None)


# --- paying out ------------------------------------------------------------------------------------

PAYMENT_FIELDS = {"date": "paid_on", "amount": "amount", "currency": "currency", "postings": "__all__", "meta": "__all__"}


def _require_approved(grant: Grant) -> None:
    # At the top of the page: the payment forms are shown for approved grants only.
    if grant.status == "rejected":
        raise ActionRefused(_("This plan was rejected: nothing can be paid on it."))
    if grant.status != "approved":
        raise ActionRefused(_("The plan is not approved yet: nothing can be paid before approval."))


def _check_day(ctx: Context, grant: Grant, day: date, field_name: str) -> None:
    if day > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), field_name)
    if grant.decided_on is not None and day < grant.decided_on:
        raise ActionRefused(_("The date cannot be before the approval (%(date)s).", date=format_date(grant.decided_on)), field_name)


def _lock_general_book(ctx: Context) -> Book:
    """The general book, locked for this transaction (PostgreSQL: ``FOR UPDATE``), so two finance
    officers never draw the same receipt number; SQLite serialises writers itself."""
    book = general_book(ctx.session, ctx.org_id)
    ctx.session.execute(select(Book.id).where(Book.id == book.id).with_for_update())
    return book


def _next_receipt(ctx: Context, year: int) -> str:
    prefix = f"GR-{year}-"
    numbers = ctx.session.scalars(select(Movement.receipt).where(Movement.org_id == ctx.org_id, Movement.receipt.like(prefix + "%")))
    last = max((int(n[len(prefix):]) for n in numbers if n and n[len(prefix):].isdecimal()), default=0)
    return f"{prefix}{last + 1:04d}"


def _money_account(ctx: Context, book: Book, method: str, currency: str) -> str:
    name = f"Assets:{'Bank' if method == 'bank' else 'Cash'}:{currency}"
    if find_account(ctx.session, book, name) is None:
        raise ActionRefused(_("The general book has no account %(account)s: ask finance to open it in the chart of accounts.", account=name), "method")
    return name


def _convert(
    ctx: Context, grant_legs: list[tuple[str, str, int]], grant_currency: str, money_side: str, money_account: str, paid_currency: str, day: date,
) -> tuple[list[Leg], int, str | None]:
    """The legs of an entry whose grant side (``(side, account, minor)`` in the grant's currency)
    is paid from or into ``money_account`` in ``paid_currency``; returns the legs, the amount
    paid in minor units and the rate used.

    In the other currency, the day's recorded rate converts: the grant legs carry ``@ rate``
    when that gives whole minor units (``300 USD @ 4100 KHR``), else the money leg carries the
    reverse rate when that is exact; otherwise the payment is refused (round the amount).
    """
    total = sum(minor for _s, _a, minor in grant_legs)

    def leg(side: str, account: str, amount: Decimal, currency: str, **price: Any) -> Leg:
        return (debit if side == "debit" else credit)(account, amount, currency, **price)

    if paid_currency == grant_currency:
        legs = [leg(s, a, money(m, grant_currency), grant_currency) for s, a, m in grant_legs]
        return [*legs, leg(money_side, money_account, money(total, grant_currency), grant_currency)], total, None
    found = rate_on(ctx.session, ctx.org_id, grant_currency, paid_currency, day)
    if found is None:
        raise ActionRefused(
            _("There is no exchange rate from %(base)s to %(quote)s on or before %(date)s: ask finance to record one.",
              base=grant_currency, quote=paid_currency, date=format_date(day)),
            "currency",
        )
    rate = found[0]
    shift = DIGITS[paid_currency]
    weights = [money(m, grant_currency) * rate for _s, _a, m in grant_legs]
    if all(w.scaleb(shift) == w.scaleb(shift).to_integral_value() for w in weights) and len(format(rate, "f")) <= 30:
        paid = int(sum(weights).scaleb(shift))
        legs = [leg(s, a, money(m, grant_currency), grant_currency, price=rate, price_currency=paid_currency) for s, a, m in grant_legs]
        return [*legs, leg(money_side, money_account, money(paid, paid_currency), paid_currency)], paid, format(rate, "f")
    back = rate_on(ctx.session, ctx.org_id, paid_currency, grant_currency, day)
    if back is not None:
        inverse = back[0]
        paid_amount = (money(total, grant_currency) / inverse).quantize(Decimal(1).scaleb(-shift), rounding=ROUND_HALF_EVEN)
        if paid_amount > 0 and paid_amount * inverse == money(total, grant_currency) and len(format(inverse, "f")) <= 30:
            legs = [leg(s, a, money(m, grant_currency), grant_currency) for s, a, m in grant_legs]
            money_leg = leg(money_side, money_account, paid_amount, paid_currency, price=inverse, price_currency=grant_currency)
            return [*legs, money_leg], to_minor(paid_amount, paid_currency), format(Decimal(1) / inverse, "f")[:40]
    raise ActionRefused(
        _("At the rate recorded for %(date)s (1 %(base)s = %(rate)s %(quote)s) this amount is not a whole number of %(quote)s: "
          "round it, or pay in %(base)s.", date=format_date(found[1]), base=grant_currency, rate=rate.normalize(), quote=paid_currency),
        "amount",
    )


def _loan_share(grant: Grant, given_before: int, amount: int) -> int:
    """The repayable share of a payment: the loan grows in proportion to what is given, rounded
    so that once the whole grant is given the loan is exactly the repayable part."""
    total, repayable = grant.amount_minor or 0, grant.repayable_minor
    if not repayable or not total:
        return 0

    def rounded(given: int) -> int:
        return (2 * repayable * given + total) // (2 * total)

    return rounded(given_before + amount) - rounded(given_before)


def _meta(grant: Grant, **extra: Any) -> dict[str, Any]:
    return {"plugin": "grants", "grant_id": grant.id, "case_id": grant.case_id, **extra}


def _pay_out(ctx: Context, grant: Grant, kind: str, amount: int, data: PaymentIn, *, tranche: Tranche | None = None) -> Movement:
    """Pay ``amount`` (grant currency) of the grant, as a tranche or a purchase in kind: the
    movement, its entry in the general book and its entry in the microbusiness's book."""
    currency = grant.currency or "USD"
    book = _lock_general_book(ctx)
    left = position(ctx, grant).left_to_give
    if amount > left:
        raise ActionRefused(
            _("This is more than is left of the approved amount (%(left)s).", left=money(left, currency)), "amount",
        )
    try:
        fund = get_fund(ctx.session, ctx.org_id, grant.fund_code or "")
        require_available(ctx.session, fund, money(amount, currency), currency, data.paid_on)
    except LedgerError as exc:
        raise _refusal(exc, PAYMENT_FIELDS) from None
    money_account = _money_account(ctx, book, data.method, data.currency)
    for name in (EXPENSE, RECEIVABLE):
        ensure_account(ctx.session, book, name, CURRENCIES)
    given = position(ctx, grant).given
    loan = _loan_share(grant, given, amount)
    grant_legs = [(side, account, minor) for side, account, minor in (("debit", EXPENSE, amount - loan), ("debit", RECEIVABLE, loan)) if minor]
    legs, paid, rate = _convert(ctx, grant_legs, currency, "credit", money_account, data.currency, data.paid_on)
    receipt = _next_receipt(ctx, data.paid_on.year)
    movement = Movement(
        org_id=ctx.org_id, grant_id=grant.id, kind=kind, day=data.paid_on, amount_minor=amount, loan_minor=loan,
        method=data.method, paid_minor=paid, paid_currency=data.currency, rate=rate, receipt=receipt,
        tranche_id=tranche.id if tranche else None, recorded_by_id=ctx.user.id,
    )
    if isinstance(data, PurchaseIn):
        movement.description, movement.supplier, movement.asset = data.description, data.supplier, data.asset
    ctx.session.add(movement)
    ctx.session.flush()
    case = case_of(ctx, grant)
    if kind == "tranche":
        assert tranche is not None
        text = f"Grant {grant.id}: tranche {tranche.position} ({tranche.condition})"
    else:
        text = f"Grant {grant.id}: bought in kind: {movement.description}"
    try:
        general = post(ctx.session, book, data.paid_on, text, legs, meta=_meta(grant, fund=fund.code, receipt=receipt),
                       links=[f"grant-{grant.id}"], created_by=ctx.user.id)
        target = "Assets:Cash" if kind == "tranche" else ("Assets:Equipment" if movement.asset == "equipment" else "Assets:Stock")
        business = post(ctx.session, _business_book(ctx, grant), data.paid_on, text, [
            debit(target, money(paid, data.currency), data.currency),
            credit("Equity:Owner:Grant", money(paid, data.currency), data.currency),
        ], meta=_meta(grant, receipt=receipt), links=[f"grant-{grant.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, PAYMENT_FIELDS) from None
    movement.general_txn_id, movement.business_txn_id = general.id, business.id
    ctx.session.flush()
    payload = MoneyEvent(grant_id=grant.id, amount=str(money(amount, currency)), currency=currency, receipt=receipt)  # type: ignore[arg-type]
    _event(ctx, case, TRANCHE_DISBURSED if kind == "tranche" else PURCHASE_RECORDED, data.paid_on, text, payload)
    return movement


def _business_book(ctx: Context, grant: Grant) -> Book:
    book = ctx.session.scalar(select(Book).where(Book.id == grant.book_id, Book.org_id == ctx.org_id))
    assert book is not None, "an approved grant has its book"
    return book


def disburse(ctx: Context, grant: Grant, data: DisburseIn) -> Movement:
    """Pay the next tranche (its scheduled amount, or ``data.amount`` when given).

    :raises ActionRefused: not approved (or rejected), every tranche paid, more than is left of
        the approved amount, the fund lacks the money, no bank or cash account in that currency,
        no rate for a payment in the other currency.
    """
    _require(ctx, DISBURSE)
    _require_approved(grant)
    tranche = next_tranche(ctx, grant)
    if tranche is None:
        raise ActionRefused(_("Every tranche of this grant is already disbursed."))
    _check_day(ctx, grant, data.paid_on, "paid_on")
    currency = grant.currency or "USD"
    amount = tranche.amount_minor if data.amount is None else _minor(data.amount, currency, "amount")
    return _pay_out(ctx, grant, "tranche", amount, data, tranche=tranche)


def purchase(ctx: Context, grant: Grant, data: PurchaseIn) -> Movement:
    """Record something bought in kind for the business; it counts against the approved amount
    like a tranche (and carries its repayable share like one)."""
    _require(ctx, DISBURSE)
    _require_approved(grant)
    _check_day(ctx, grant, data.paid_on, "paid_on")
    assert data.amount is not None
    return _pay_out(ctx, grant, "purchase", _minor(data.amount, grant.currency or "USD", "amount"), data)


def repay(ctx: Context, grant: Grant, data: RepaymentIn) -> Movement:
    """Record a repayment of the loan: Dr bank or cash, Cr the loans receivable.

    :raises ActionRefused: more than the balance owed.
    """
    _require(ctx, DISBURSE)
    _require_approved(grant)
    _check_day(ctx, grant, data.paid_on, "paid_on")
    currency = grant.currency or "USD"
    assert data.amount is not None
    amount = _minor(data.amount, currency, "amount")
    book = _lock_general_book(ctx)
    owed = position(ctx, grant).outstanding
    if amount > owed:
        raise ActionRefused(_("This is more than the balance owed (%(owed)s).", owed=money(owed, currency)), "amount")
    money_account = _money_account(ctx, book, data.method, data.currency)
    legs, paid, rate = _convert(ctx, [("credit", RECEIVABLE, amount)], currency, "debit", money_account, data.currency, data.paid_on)
    receipt = _next_receipt(ctx, data.paid_on.year)
    movement = Movement(
        org_id=ctx.org_id, grant_id=grant.id, kind="repayment", day=data.paid_on, amount_minor=amount, loan_minor=amount,
        method=data.method, paid_minor=paid, paid_currency=data.currency, rate=rate, receipt=receipt, recorded_by_id=ctx.user.id,
    )
    ctx.session.add(movement)
    ctx.session.flush()
    text = f"Grant {grant.id}: loan repayment"
    try:
        txn = post(ctx.session, book, data.paid_on, text, legs, meta=_meta(grant, fund=grant.fund_code or "", receipt=receipt),
                   links=[f"grant-{grant.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, PAYMENT_FIELDS) from None
    movement.general_txn_id = txn.id
    ctx.session.flush()
    payload = MoneyEvent(grant_id=grant.id, amount=str(money(amount, currency)), currency=currency, receipt=receipt)  # type: ignore[arg-type]
    _event(ctx, case_of(ctx, grant), REPAYMENT_RECORDED, data.paid_on, text, payload)
    return movement


def active_write_off(ctx: Context, grant: Grant) -> Movement | None:
    """The latest write-off not yet reversed."""
    reversed_ids = select(Movement.reverses_id).where(Movement.org_id == ctx.org_id, Movement.reverses_id.is_not(None))
    return ctx.session.scalar(
        select(Movement).where(
            Movement.org_id == ctx.org_id, Movement.grant_id == grant.id, Movement.kind == "write_off", Movement.id.not_in(reversed_ids),
        ).order_by(Movement.id.desc())
    )


WRITE_OFF_FIELDS = {"date": "written_on", "reason": "reason", "postings": "__all__", "meta": "__all__", "transaction": "__all__"}


def write_off(ctx: Context, grant: Grant, data: WriteOffIn) -> Movement:
    """Write off the whole balance owed, with the reason: Dr Expenses:Programme:Grants:Written-Off,
    Cr the loans receivable, charged to the grant's fund.

    :raises ActionRefused: nothing is owed.
    """
    _require(ctx, DISBURSE)
    _require_approved(grant)
    _check_day(ctx, grant, data.written_on, "written_on")
    currency = grant.currency or "USD"
    book = _lock_general_book(ctx)
    owed = position(ctx, grant).outstanding
    if owed <= 0:
        raise ActionRefused(_("Nothing is owed on this grant: there is nothing to write off."))
    ensure_account(ctx.session, book, WRITTEN_OFF_ACCOUNT, CURRENCIES)
    movement = Movement(
        org_id=ctx.org_id, grant_id=grant.id, kind="write_off", day=data.written_on, amount_minor=owed, loan_minor=owed,
        reason=data.reason, recorded_by_id=ctx.user.id,
    )
    ctx.session.add(movement)
    ctx.session.flush()
    text = f"Grant {grant.id}: loan written off"
    try:
        txn = post(ctx.session, book, data.written_on, text, [
            debit(WRITTEN_OFF_ACCOUNT, money(owed, currency), currency), credit(RECEIVABLE, money(owed, currency), currency),
        ], meta=_meta(grant, fund=grant.fund_code or "", reason=data.reason), links=[f"grant-{grant.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, WRITE_OFF_FIELDS) from None
    movement.general_txn_id = txn.id
    ctx.session.flush()
    payload = WriteOffEvent(grant_id=grant.id, amount=str(money(owed, currency)), currency=currency, reason=data.reason)  # type: ignore[arg-type]
    _event(ctx, case_of(ctx, grant), WRITTEN_OFF, data.written_on, data.reason[:200], payload)
    return movement


def reverse_write_off(ctx: Context, grant: Grant, data: WriteOffIn) -> Movement:
    """Reverse the standing write-off with ``ledger.api.reverse`` (``^reverses-<id>``): the
    balance is owed again."""
    _require(ctx, DISBURSE)
    original = active_write_off(ctx, grant)
    if original is None:
        raise ActionRefused(_("There is no write-off to reverse."))
    if data.written_on < original.day or data.written_on > ctx.today:
        raise ActionRefused(_("Date the reversal between the write-off and today."), "written_on")
    _lock_general_book(ctx)
    currency = grant.currency or "USD"
    movement = Movement(
        org_id=ctx.org_id, grant_id=grant.id, kind="write_off_reversal", day=data.written_on, amount_minor=original.amount_minor,
        loan_minor=original.loan_minor, reason=data.reason, reverses_id=original.id, recorded_by_id=ctx.user.id,
    )
    ctx.session.add(movement)
    ctx.session.flush()
    txn = ctx.session.scalar(select(JournalTransaction).where(JournalTransaction.id == original.general_txn_id))
    assert txn is not None
    try:
        reversal = reverse(ctx.session, txn, data.written_on, data.reason, created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, WRITE_OFF_FIELDS) from None
    movement.general_txn_id = reversal.id
    ctx.session.flush()
    payload = WriteOffEvent(grant_id=grant.id, amount=str(money(original.amount_minor, currency)), currency=currency, reason=data.reason)  # type: ignore[arg-type]
    _event(ctx, case_of(ctx, grant), WRITE_OFF_REVERSED, data.written_on, data.reason[:200], payload)
    return movement


# --- the microbusiness's monthly figures -----------------------------------------------------------


def month_records(ctx: Context, grant: Grant, *, standing: bool = True) -> list[MonthFigures]:
    query = select(MonthFigures).where(MonthFigures.org_id == ctx.org_id, MonthFigures.grant_id == grant.id)
    if standing:
        query = query.where(MonthFigures.reversed_on.is_(None))
    return list(ctx.session.scalars(query.order_by(MonthFigures.month, MonthFigures.id)))


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


MONTH_FIELDS = {"date": "month", "postings": "__all__", "meta": "__all__"}


def record_month(ctx: Context, grant: Grant, data: MonthIn) -> MonthFigures:
    """Record a month's sales, costs, drawings and counted stock into the business's book, in
    the grant's currency, as one entry dated the month's last day (or today, in the current
    month). Months are recorded in order, one standing record each.
    """
    _require(ctx, BUSINESS)
    if grant.status != "approved" or grant.book_id is None:
        raise ActionRefused(_("Monthly figures are recorded for an approved grant."))
    currency = grant.currency or "USD"
    sales, costs, drawings, stock = (_minor(getattr(data, n), currency, n) for n in ("sales", "costs", "drawings", "stock"))
    if data.month > ctx.today.replace(day=1):
        raise ActionRefused(_("The month cannot be in the future."), "month")
    assert grant.decided_on is not None
    if data.month < grant.decided_on.replace(day=1):
        raise ActionRefused(_("The business's book starts with the approval in %(month)s.", month=format_date(grant.decided_on, "MMMM y")), "month")
    records = month_records(ctx, grant)
    if any(r.month == data.month for r in records):
        raise ActionRefused(_("Figures for this month are already recorded: correct that record instead."), "month")
    if records and data.month < records[-1].month:
        raise ActionRefused(_("Record the months in order: a later month is already recorded."), "month")
    book = _business_book(ctx, grant)
    before = balances(ctx.session, book).get(("Assets:Stock", currency), 0)
    change = stock - before
    legs: list[Leg] = []

    def pair(dr: str, cr: str, minor: int) -> None:
        if minor > 0:
            legs.extend([debit(dr, money(minor, currency), currency), credit(cr, money(minor, currency), currency)])

    pair("Assets:Cash", "Income:Sales", sales)
    pair("Expenses:Costs", "Assets:Cash", costs)
    pair("Equity:Owner:Drawings", "Assets:Cash", drawings)
    pair("Assets:Stock", "Expenses:Costs", change)
    pair("Expenses:Costs", "Assets:Stock", -change)
    record = MonthFigures(
        org_id=ctx.org_id, grant_id=grant.id, month=data.month, currency=currency, sales_minor=sales, costs_minor=costs,
        drawings_minor=drawings, stock_minor=stock, stock_change_minor=change, still_trading=data.still_trading == "yes",
        note=data.note, recorded_by_id=ctx.user.id,
    )
    ctx.session.add(record)
    ctx.session.flush()
    month_text = data.month.strftime("%Y-%m")
    if legs:
        on = min(month_end(data.month), ctx.today)
        try:
            txn = post(ctx.session, book, on, f"Grant {grant.id}: business figures of {month_text}", legs,
                       meta=_meta(grant, month=month_text), links=[f"grant-{grant.id}"], created_by=ctx.user.id)
        except LedgerError as exc:
            raise _refusal(exc, MONTH_FIELDS) from None
        record.txn_id = txn.id
        ctx.session.flush()
    payload = MonthEvent(grant_id=grant.id, month=month_text, still_trading=data.still_trading)
    _event(ctx, case_of(ctx, grant), BUSINESS_MONTH, min(month_end(data.month), ctx.today), data.note[:200], payload)
    return record


def get_month(ctx: Context, grant: Grant, record_id: int) -> MonthFigures:
    record = ctx.session.scalar(select(MonthFigures).where(
        MonthFigures.id == record_id, MonthFigures.org_id == ctx.org_id, MonthFigures.grant_id == grant.id,
    ))
    if record is None:
        raise RecordNotFound
    return record


def correct_month(ctx: Context, grant: Grant, record: MonthFigures, data: CorrectIn) -> None:
    """Withdraw the latest month's record: its entry is reversed (the month may then be recorded
    again). Only the latest standing month, so that the stock counted later stays right."""
    _require(ctx, BUSINESS)
    records = month_records(ctx, grant)
    if record.reversed_on is not None or not records or records[-1].id != record.id:
        raise ActionRefused(_("Only the latest month's figures can be corrected."))
    record.reversed_on = ctx.today
    if record.txn_id is not None:
        txn = ctx.session.scalar(select(JournalTransaction).where(JournalTransaction.id == record.txn_id))
        assert txn is not None
        try:
            reversal = reverse(ctx.session, txn, max(ctx.today, txn.date), data.reason, created_by=ctx.user.id)
        except LedgerError as exc:
            raise _refusal(exc, {"reason": "reason", "date": "reason"}) from None
        record.reversal_txn_id = reversal.id
    ctx.session.flush()


@dataclass(frozen=True)
class BusinessView:
    """The business at a glance: the standing months, cash on hand per currency, still trading."""

    months: list[MonthFigures]
    cash: dict[str, Decimal]
    still_trading: bool | None

    def chart(self, width: int = 640, height: int = 200) -> dict[str, Any]:
        """Bars of sales and costs and a line of profit per month, scaled for an inline SVG."""
        if not self.months:
            return {"bars": [], "line": "", "width": width, "height": height, "zero": height}
        values = [v for m in self.months for v in (m.sales_minor, m.costs_minor, m.profit_minor)]
        top, bottom = max(0, *values), min(0, *values)
        span = (top - bottom) or 1
        plot = height - 20

        def y(v: int) -> float:
            return round(10 + (top - v) * plot / span, 1)

        step = width / len(self.months)
        bars, points = [], []
        for n, m in enumerate(self.months):
            x = n * step
            for k, (value, kind) in enumerate(((m.sales_minor, "sales"), (m.costs_minor, "costs"))):
                y0, y1 = sorted((y(0), y(value)))
                bars.append({"x": round(x + step * (0.15 + 0.35 * k), 1), "y": y0, "h": round(max(y1 - y0, 0.5), 1), "w": round(step * 0.33, 1), "kind": kind, "month": m.month})
            points.append(f"{round(x + step / 2, 1)},{y(m.profit_minor)}")
        return {"bars": bars, "line": " ".join(points), "width": width, "height": height, "zero": y(0), "step": step}


def business(ctx: Context, grant: Grant) -> BusinessView:
    months = month_records(ctx, grant)
    cash: dict[str, Decimal] = {}
    if grant.book_id is not None:
        for (account, currency), minor in balances(ctx.session, _business_book(ctx, grant)).items():
            if account == "Assets:Cash" and minor:
                cash[currency] = money(minor, currency)
    return BusinessView(months, cash, months[-1].still_trading if months else None)


# --- lists, the case tab, the statement ------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    grant: Grant
    name: str
    position: Position


def grant_list(ctx: Context, status: str = "", page: int = 1) -> tuple[list[Row], bool]:
    """One page of the organisation's plans and grants, newest first, with the person's name;
    ``status`` filters on the decision (submitted, approved, rejected)."""
    query = (
        select(Grant, Person.name)
        .join(Case, Case.id == Grant.case_id)
        .join(Person, Person.id == Case.person_id)
        .where(Grant.org_id == ctx.org_id)
    )
    if status:
        query = query.where(Grant.status == status)
    rows = ctx.session.execute(query.order_by(Grant.id.desc()).limit(PAGE + 1).offset((max(page, 1) - 1) * PAGE)).all()
    grants = [g for g, _n in rows[:PAGE]]
    where = positions(ctx, grants)
    return [Row(g, name, where[g.id]) for g, name in rows[:PAGE]], len(rows) > PAGE


def grants_of_case(ctx: Context, case: Case) -> list[Row]:
    grants = list(ctx.session.scalars(select(Grant).where(Grant.org_id == ctx.org_id, Grant.case_id == case.id).order_by(Grant.id.desc())))
    where = positions(ctx, grants)
    return [Row(g, "", where[g.id]) for g in grants]


def statement(ctx: Context, grant: Grant) -> list[tuple[JournalTransaction, str]]:
    """The grant's journal entries in every book of the organisation (``(entry, book name)``),
    those this module posted (``plugin: grants``), in date order."""
    rows = ctx.session.execute(
        select(JournalTransaction, Book.name)
        .join(Book, Book.id == JournalTransaction.book_id)
        .where(Book.org_id == ctx.org_id, JournalTransaction.grant_id == grant.id)
        .order_by(JournalTransaction.date, JournalTransaction.id)
    ).all()
    return [(txn, name) for txn, name in rows if (txn.meta or {}).get("plugin") == "grants"]


def user_names(ctx: Context, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(ctx.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


# --- reports ---------------------------------------------------------------------------------------


def period_of(day: date, by: str) -> str:
    return str(day.year) if by == "year" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _period_end(label: str) -> date:
    if "-Q" in label:
        year, quarter = label.split("-Q")
        return month_end(date(int(year), int(quarter) * 3, 1))
    return date(int(label), 12, 31)


@dataclass
class FundFigures:
    """Per period, fund and currency (minor units)."""

    period: str
    fund: str
    currency: str
    approved: int = 0
    given: int = 0
    repaid: int = 0
    written_off: int = 0
    not_yet_given: int = 0  # approved through the period's end, not given by then
    loans_outstanding: int = 0  # at the period's end

    def amount(self, name: str) -> Decimal:
        return money(getattr(self, name), self.currency)


def fund_figures(ctx: Context, by: str = "year") -> list[FundFigures]:
    """Grants approved, given (tranches and purchases), repaid and written off in each period,
    and what was still to give and still owed at its end, per fund and currency. Two queries."""
    approved = ctx.session.execute(
        select(Grant.id, Grant.fund_code, Grant.currency, Grant.amount_minor, Grant.decided_on)
        .where(Grant.org_id == ctx.org_id, Grant.status == "approved")
    ).all()
    grant_info = {gid: (fund or "", cur or "USD") for gid, fund, cur, _a, _d in approved}
    moves = ctx.session.execute(
        select(Movement.grant_id, Movement.kind, Movement.day, Movement.amount_minor, Movement.loan_minor).where(Movement.org_id == ctx.org_id)
    ).all()
    periods = sorted({period_of(d, by) for *_x, d in approved if d} | {period_of(d, by) for _g, _k, d, _a, _l in moves})
    table: dict[tuple[str, str, str], FundFigures] = {}

    def row(period: str, fund: str, currency: str) -> FundFigures:
        return table.setdefault((period, fund, currency), FundFigures(period, fund, currency))

    for period in periods:
        end = _period_end(period)
        for gid, fund, cur, amount, decided in approved:
            if decided and decided <= end:
                r = row(period, fund or "", cur or "USD")
                if period_of(decided, by) == period:
                    r.approved += amount or 0
                r.not_yet_given += amount or 0
        for gid, kind, day, amount, loan in moves:
            if day > end or gid not in grant_info:
                continue
            r = row(period, *grant_info[gid])
            sign = -1 if kind == "write_off_reversal" else 1
            if kind in ("tranche", "purchase"):
                r.not_yet_given -= amount
                r.loans_outstanding += loan
            else:
                r.loans_outstanding -= sign * loan
            if period_of(day, by) == period:
                if kind in ("tranche", "purchase"):
                    r.given += amount
                elif kind == "repayment":
                    r.repaid += loan
                else:
                    r.written_off += sign * loan
    return sorted(table.values(), key=lambda r: (r.period, r.fund, r.currency))


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, month_end(date(year, month + 1, 1)).day))


@dataclass
class Survival:
    """Businesses ``months`` after their first payment: due (that point is past), still trading,
    stopped, and unknown (no record to tell)."""

    months: int
    due: int = 0
    trading: int = 0
    stopped: int = 0

    @property
    def unknown(self) -> int:
        return self.due - self.trading - self.stopped

    @property
    def rate(self) -> int | None:
        """Still trading in whole percent of the businesses whose state is known."""
        known = self.trading + self.stopped
        return None if not known else round(100 * self.trading / known)


@dataclass
class CostPerBusiness:
    currency: str
    given: int
    trading: int

    @property
    def cost(self) -> Decimal | None:
        if not self.trading:
            return None
        exponent = Decimal(1).scaleb(-DIGITS[self.currency])
        return (money(self.given, self.currency) / self.trading).quantize(exponent, rounding=ROUND_HALF_EVEN)


def survival(ctx: Context) -> tuple[list[Survival], list[CostPerBusiness]]:
    """Survival at 6 and 12 months after the first payment (tranche or purchase) and the cost per
    business still trading. Two queries.

    A business's state at a point is the first standing monthly record for the month of the
    point or later; with none, a record before the point that says it stopped counts as stopped
    (businesses rarely reopen), otherwise the state is unknown. Unknown businesses are shown
    apart and left out of the rate. "Still trading" for the cost is the latest record.
    """
    first_paid: dict[int, date] = {}
    given: dict[int, tuple[str, int]] = {}
    for gid, cur, day, amount in ctx.session.execute(
        select(Movement.grant_id, Grant.currency, Movement.day, Movement.amount_minor)
        .join(Grant, Grant.id == Movement.grant_id)
        .where(Movement.org_id == ctx.org_id, Movement.kind.in_(("tranche", "purchase")))
    ).all():
        first_paid[gid] = min(day, first_paid.get(gid, day))
        given[gid] = (cur or "USD", given.get(gid, ("", 0))[1] + amount)
    records: dict[int, list[tuple[date, bool]]] = defaultdict(list)
    for gid, month, trading in ctx.session.execute(
        select(MonthFigures.grant_id, MonthFigures.month, MonthFigures.still_trading)
        .where(MonthFigures.org_id == ctx.org_id, MonthFigures.reversed_on.is_(None))
        .order_by(MonthFigures.month)
    ).all():
        records[gid].append((month, trading))
    out = []
    for months in (6, 12):
        s = Survival(months)
        for gid, start in first_paid.items():
            point = add_months(start, months)
            if point > ctx.today:
                continue
            s.due += 1
            month = point.replace(day=1)
            after = [t for m, t in records.get(gid, []) if m >= month]
            if after:
                s.trading += after[0]
                s.stopped += not after[0]
            elif any(not t for m, t in records.get(gid, []) if m < month):
                s.stopped += 1
        out.append(s)
    costs: dict[str, CostPerBusiness] = {}
    for gid, (cur, amount) in given.items():
        c = costs.setdefault(cur, CostPerBusiness(cur, 0, 0))
        c.given += amount
        c.trading += bool(records.get(gid)) and records[gid][-1][1]
    return out, [costs[c] for c in sorted(costs)]


# --- timeline --------------------------------------------------------------------------------------


def _event(ctx: Context, case: Case, kind: str, on: date, summary: str, payload: Any) -> None:
    record_event(ctx, case, kind, on, summary=summary, payload=payload, system=True)


# --- demo data -------------------------------------------------------------------------------------

DEMO_PLANS = (
    # (business type, description, items, states) - see add_demo_grants
    ("tailoring", "Sewing repairs and school uniforms at the market", [("Sewing machine", "180.00"), ("Cloth and thread", "70.00")]),
    ("motorbike_repair", "Roadside motorbike repair stand", [("Tool set", "220.00"), ("Air compressor", "150.00"), ("Spare parts", "80.00")]),
    ("grocery_stall", "Village grocery stall", [("Shelves", "60.00"), ("First stock", "240.00")]),
    ("pig_raising", "Raising four piglets for sale", [("Piglets", "200.00"), ("Pen", "100.00"), ("Feed", "100.00")]),
    ("hairdressing", "Hairdressing in the family home", [("Chair and mirror", "120.00"), ("Clippers and scissors", "80.00")]),
    ("food_stall", "Noodle soup stall", [("Cart", "150.00"), ("Pots and gas", "90.00"), ("Ingredients", "60.00")]),
    ("electronics_repair", "Phone repair at the commune market", [("Soldering station", "90.00"), ("Parts", "110.00")]),
    ("agriculture", "Vegetable garden with drip watering", [("Seeds and tools", "100.00"), ("Water pump", "200.00")]),
)


def add_demo_grants(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    """Eight plans in every state: submitted, rejected, approved (nothing paid), partly
    disbursed, fully disbursed, repaying, written off, and one repaid in riel with a purchase in
    kind; a year of monthly figures for the businesses running. Posted through the services, so
    the books pass ``homecoming ledger check`` and ``verify``."""
    open_cases = [c for c in cases if c.status != CaseStatus.closed]
    if len(open_cases) < 3 * len(DEMO_PLANS) or not session.scalar(select(Fund.id).where(Fund.org_id == organisation.id, Fund.code == "Reintegration")):
        return
    planner = context_for(staff.get("case_manager") or staff["admin"], today)
    officer = context_for(staff.get("programme_officer") or staff["admin"], today)
    finance = context_for(staff.get("finance") or staff["admin"], today)
    fund = get_fund(session, organisation.id, "Reintegration")
    # Payments go after the general book's closed periods (the ledger's demo closes its first month).
    book = general_book(session, organisation.id)
    closed = session.scalar(select(func.max(ClosedPeriod.through)).where(ClosedPeriod.book_id == book.id))
    start = max(add_months(today, -12).replace(day=1), (closed + timedelta(days=1)) if closed else date.min)
    record_donor_income(session, fund, start, Decimal("6000.00"), "USD", "Assets:Bank:USD", reference="Grants for small businesses",
                        created_by=finance.user.id)
    states = ("submitted", "rejected", "approved", "partly", "full", "repaying", "written_off", "repaid")
    for n, ((kind, text, items), state) in enumerate(zip(DEMO_PLANS, states, strict=True)):
        case = open_cases[n * 3]
        day = add_months(start, n % 3)
        for actor in (planner, officer, finance):
            actor.today = day
        grant = create_plan(planner, case, PlanIn(
            business_type=kind, description=text, village="Prey Veng", commune="Chbar Ampov", district="Chbar Ampov", province="Phnom Penh",
            items=[{"description": d, "amount": a, "currency": "USD"} for d, a in items],  # type: ignore[misc]
            expected_income=Decimal(120 + 10 * n), expected_income_currency="USD", contribution=Decimal(20), contribution_currency="USD",
        ))
        if state == "submitted":
            continue
        if state == "rejected":
            reject(officer, grant, RejectIn(reason="The market already has three such stalls; revise the plan."))
            continue
        total = sum(Decimal(a) for _d, a in items)
        riel = state == "repaid"
        currency = "KHR" if riel else "USD"
        amount = total * 4100 if riel else total
        repayable = {"repaying": amount / 2, "written_off": Decimal(100), "repaid": amount / 4}.get(state, Decimal(0))
        instalments = [{"due_on": add_months(day, 3 + 3 * k), "amount": repayable / 4} for k in range(4)] if repayable else []
        approve(officer, grant, ApproveIn.model_validate({
            "amount": str(amount), "currency": currency, "fund": "Reintegration", "repayable": str(repayable),
            "tranches": [{"share": "60%", "condition": "At start"}, {"share": "40%", "condition": "After a follow-up visit confirms the business runs"}],
            "instalments": [{"due_on": i["due_on"], "amount": str(i["amount"])} for i in instalments],
        }))
        if state == "approved":
            continue
        paid_on = day + timedelta(days=5)
        finance.today = paid_on
        if riel:
            purchase(finance, grant, PurchaseIn(paid_on=paid_on, method="cash", currency="KHR", amount=Decimal(int(amount * Decimal("0.3"))),
                                                description=items[0][0], supplier="Central market", asset="equipment"))
        method, paid_in = ("cash", "KHR") if riel or n % 2 == 0 else ("bank", "USD")
        disburse(finance, grant, DisburseIn(paid_on=paid_on, method=method, currency=paid_in))
        if state == "partly":
            _demo_months(session, grant, planner, paid_on, today, 5)
            continue
        second = add_months(paid_on, 2)
        finance.today = second
        remaining = position(finance, grant).left_to_give  # type: ignore[arg-type]
        disburse(finance, grant, DisburseIn(paid_on=second, method="bank", currency=currency, amount=money(remaining, currency)))
        repaid_on = add_months(second, 2)
        if state in ("repaying", "written_off", "repaid"):
            finance.today = repaid_on
            portion = repayable if state == "repaid" else repayable / 4
            repay(finance, grant, RepaymentIn(paid_on=repaid_on, method="cash", currency=currency, amount=portion))
        if state == "written_off":
            finance.today = add_months(repaid_on, 3)
            write_off(finance, grant, WriteOffIn(written_on=finance.today, reason="The business closed after a flood; the person moved away."))
        _demo_months(session, grant, planner, paid_on, today, 12, stops=8 if state == "written_off" else None)


def _demo_months(session: Session, grant: Grant, actor: Context, since: date, today: date, count: int, stops: int | None = None) -> None:
    """Up to ``count`` months of figures from the month of ``since`` (the first money; the
    business stops trading in month ``stops``)."""
    currency = grant.currency or "USD"
    scale = 4100 if currency == "KHR" else 1
    stock = Decimal(0)
    for k in range(count):
        month = add_months(since, k).replace(day=1)
        if month > today.replace(day=1):
            break
        trading = stops is None or k < stops
        sales = Decimal((180 + 15 * (k % 5)) * scale) if trading else Decimal(0)
        costs = Decimal((110 + 10 * (k % 3)) * scale) if trading else Decimal(0)
        drawings = Decimal(40 * scale) if trading else Decimal(0)
        stock = Decimal((30 + 5 * (k % 4)) * scale) if trading else Decimal(0)
        actor.today = min(month_end(month), today)
        record_month(actor, grant, MonthIn(  # type: ignore[arg-type]
            month=month, sales=sales, costs=costs, drawings=drawings, stock=stock, still_trading="yes" if trading else "no",
            note="" if trading else "Closed after the flood.",
        ))
        if not trading:
            break


# --- report indicators (the programme dashboard) ---------------------------------------------------

PAID_OUT = ("tranche", "purchase")
"""Movements that give the grant's money: a tranche paid, or something bought in kind."""


def first_payments_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Grants disbursed per month from ``first`` to ``last``: each grant counted once, in the
    month of its first payment (a tranche or a purchase in kind). One query."""
    first_paid = (
        select(func.min(Movement.day).label("day"))
        .where(Movement.org_id == ctx.org_id, Movement.kind.in_(PAID_OUT))
        .group_by(Movement.grant_id)
        .subquery()
    )
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(first_paid.c.day, func.count()).where(first_paid.c.day >= first, first_paid.c.day <= last).group_by(first_paid.c.day)
    ).all())


def paid_out_by_month(currency: str) -> Callable[[Context, date, date], dict[date, Decimal]]:
    """``monthly`` of the amount of grants paid out in ``currency`` (the grant's currency):
    tranches and purchases in kind, by the day they were paid. One query."""

    def monthly(ctx: Context, first: date, last: date) -> dict[date, Decimal]:
        rows = ctx.session.execute(
            select(Movement.day, func.sum(Movement.amount_minor))
            .join(Grant, Grant.id == Movement.grant_id)
            .where(
                Movement.org_id == ctx.org_id, Grant.org_id == ctx.org_id, Movement.kind.in_(PAID_OUT),
                func.coalesce(Grant.currency, "USD") == currency, Movement.day >= first, Movement.day <= last,
            )
            .group_by(Movement.day)
        ).all()
        return {month: money(int(minor), currency) for month, minor in by_month(rows).items()}

    return monthly
