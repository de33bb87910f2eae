"""The schooling module's rules: the organisation's settings, enrolling a child of the case's
person at a school, paying school fees through the ledger, reversing a wrong payment, and the
figures of the case tab, the overview and the report indicator.

Every query is limited to ``ctx.org_id``. Services add and flush, and post their journal entry
through ``ledger.api`` in the same session; the route commits once, so a payment and its entry
are written together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.plugin_api import ActionRefused, Case, CaseStatus, Context, Person, RecordNotFound, by_month, family_of, format_money, record_event
from core.plugin_api import gettext as _
from homecoming_schooling.models import DEFAULT_EXPENSE, DEFAULT_PAY_FROM, Enrolment, FeePayment, SchoolingSettings
from homecoming_schooling.schemas import EnrolIn, EnrolledEvent, FeePaidEvent, PaymentIn, ReverseIn, SettingsIn
from ledger.api import (
    JournalTransaction,
    LedgerError,
    credit,
    debit,
    ensure_account,
    find_account,
    from_minor,
    general_book,
    post,
    reverse,
    to_minor,
)

NAME = "schooling"
VIEW = "schooling.view"
MANAGE = "schooling.manage"
SETTINGS = "schooling.settings"

ENROLLED = "schooling.enrolled"
FEE_PAID = "schooling.fee_paid"
FEE_REVERSED = "schooling.fee_reversed"

CURRENCIES = ("USD", "KHR")
CHILD = "child"
"""The relation of a family link (core's ``family_of``) that makes a person the case person's child."""


def _require(ctx: Context, permission: str) -> None:
    if not ctx.user.can(permission):
        raise ActionRefused(_("Your role does not allow this."))


def money(minor: int | None, currency: str) -> Decimal:
    """Minor units to a ``Decimal`` of the currency's precision."""
    return from_minor(minor or 0, currency)


def _open_case(case: Case, field: str = "__all__") -> None:
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: reopen it before changing its schooling support."), field)


def _not_future(ctx: Context, day: date, field: str) -> None:
    if day > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), field)


# --- settings --------------------------------------------------------------------------------------


def settings(ctx: Context) -> SchoolingSettings:
    """The organisation's settings (a fresh, unsaved row with the defaults when never set)."""
    row = ctx.session.get(SchoolingSettings, ctx.org_id)
    if row is None:
        row = SchoolingSettings(org_id=ctx.org_id, expense_account=DEFAULT_EXPENSE, pay_from_usd=DEFAULT_PAY_FROM["USD"],
                                pay_from_khr=DEFAULT_PAY_FROM["KHR"])
    return row


def save_settings(ctx: Context, data: SettingsIn) -> SchoolingSettings:
    """Save the expense account and the accounts fees are paid from (administrators)."""
    _require(ctx, SETTINGS)
    row = ctx.session.get(SchoolingSettings, ctx.org_id)
    if row is None:
        row = SchoolingSettings(org_id=ctx.org_id)
        ctx.session.add(row)
    row.expense_account, row.pay_from_usd, row.pay_from_khr = data.expense_account, data.pay_from_usd, data.pay_from_khr
    row.updated_by_id = ctx.user.id
    ctx.session.flush()
    return row


# --- children and enrolments -----------------------------------------------------------------------


def children(ctx: Context, case: Case) -> list[Person]:
    """The children of the case's person: persons linked with the relation ``child`` (core's
    family links, recorded from either side)."""
    return [person for relation, person, _link in family_of(ctx, case.person) if relation.value == CHILD]


def enrolments_of(ctx: Context, case: Case) -> list[Enrolment]:
    """The case's enrolments, latest school year first."""
    return list(ctx.session.scalars(
        select(Enrolment).where(Enrolment.org_id == ctx.org_id, Enrolment.case_id == case.id)
        .order_by(Enrolment.school_year.desc(), Enrolment.id)
    ))


def enrol(ctx: Context, case: Case, data: EnrolIn) -> Enrolment:
    """Enrol a child of the case's person at a school for a school year and write
    ``schooling.enrolled`` on the timeline.

    :raises ActionRefused: the case is closed; the person is not a child of the case's person;
        the child is already enrolled for that school year; the date is in the future.
    """
    _require(ctx, MANAGE)
    _open_case(case)
    kids = {p.id: p for p in children(ctx, case)}
    child = kids.get(data.child_id)
    if child is None:
        raise ActionRefused(_("Only a child of %(name)s can be enrolled: link the child on the person's page first.",
                              name=case.person.name), "child_id")
    _not_future(ctx, data.enrolled_on, "enrolled_on")
    taken = ctx.session.scalar(select(Enrolment).where(
        Enrolment.org_id == ctx.org_id, Enrolment.child_id == child.id, Enrolment.school_year == data.school_year))
    if taken is not None:
        raise ActionRefused(_("%(name)s is already enrolled at %(school)s for %(year)s.",
                              name=child.name, school=taken.school, year=data.school_year), "school_year")
    enrolment = Enrolment(
        org_id=ctx.org_id, case_id=case.id, child_id=child.id, school=data.school, grade=data.grade, school_year=data.school_year,
        fee_period=data.fee_period, fee_minor=to_minor(data.fee, data.currency), currency=data.currency, enrolled_on=data.enrolled_on,
        enrolled_by_id=ctx.user.id,
    )
    ctx.session.add(enrolment)
    try:
        ctx.session.flush()
    except IntegrityError:  # enrolled by someone else at the same moment
        raise ActionRefused(_("This child was just enrolled for this school year by someone else: reload the page."), "school_year") from None
    payload = EnrolledEvent(enrolment_id=enrolment.id, child_id=child.id, school=enrolment.school, grade=enrolment.grade,
                            school_year=enrolment.school_year)
    record_event(ctx, case, ENROLLED, data.enrolled_on, summary=f"{child.name}: {enrolment.school} ({enrolment.grade})",
                 payload=payload, system=True)
    return enrolment


def get_enrolment(ctx: Context, enrolment_id: int) -> Enrolment:
    """The enrolment with this id in the organisation, or ``RecordNotFound`` (404)."""
    row = ctx.session.scalar(select(Enrolment).where(Enrolment.id == enrolment_id, Enrolment.org_id == ctx.org_id))
    if row is None:
        raise RecordNotFound
    return row


# --- fees ------------------------------------------------------------------------------------------


def payments_of(ctx: Context, case: Case) -> list[FeePayment]:
    """The case's fee payments, newest first (reversed ones included, marked)."""
    return list(ctx.session.scalars(
        select(FeePayment).where(FeePayment.org_id == ctx.org_id, FeePayment.case_id == case.id)
        .order_by(FeePayment.paid_on.desc(), FeePayment.id.desc())
    ))


def get_payment(ctx: Context, payment_id: int) -> FeePayment:
    """The payment with this id in the organisation, or ``RecordNotFound`` (404)."""
    row = ctx.session.scalar(select(FeePayment).where(FeePayment.id == payment_id, FeePayment.org_id == ctx.org_id))
    if row is None:
        raise RecordNotFound
    return row


PAYMENT_FIELDS = {"date": "paid_on", "amount": "amount", "currency": "amount"}


def pay_fee(ctx: Context, case: Case, data: PaymentIn) -> FeePayment:
    """Pay school fees for one of the case's enrolments: Dr the expense account of the settings
    (``Expenses:Schooling:Fees``), Cr the account fees in that currency are paid from, with
    ``plugin``, ``case_id``, ``enrolment_id`` and ``payment_id`` in the entry's metadata. Writes
    ``schooling.fee_paid``.

    :raises ActionRefused: the case is closed; the enrolment is not the case's; the amount is not
        exact in the enrolment's currency; the date is in the future or before the enrolment; the
        general book has no account to pay from; the ledger refuses the entry (closed period).
    """
    _require(ctx, MANAGE)
    _open_case(case)
    enrolment = ctx.session.scalar(select(Enrolment).where(
        Enrolment.id == data.enrolment_id, Enrolment.org_id == ctx.org_id, Enrolment.case_id == case.id))
    if enrolment is None:
        raise ActionRefused(_("Choose one of the options."), "enrolment_id")
    currency = enrolment.currency
    try:
        amount_minor = to_minor(data.amount, currency)
    except LedgerError:
        raise ActionRefused(_("US dollars have at most 2 decimal places.") if currency == "USD" else _("Riel are whole numbers."), "amount") from None
    _not_future(ctx, data.paid_on, "paid_on")
    setting = settings(ctx)
    book = general_book(ctx.session, ctx.org_id)
    account = setting.pay_from(currency)
    if find_account(ctx.session, book, account) is None:
        raise ActionRefused(_("The general book has no account %(account)s: ask finance to open it in the chart of accounts.",
                              account=account), "amount")
    ensure_account(ctx.session, book, setting.expense_account, CURRENCIES)
    payment = FeePayment(
        org_id=ctx.org_id, case_id=case.id, enrolment_id=enrolment.id, amount_minor=amount_minor, currency=currency, paid_on=data.paid_on,
        covers=data.covers, reference=data.reference, account=account, recorded_by_id=ctx.user.id,
    )
    ctx.session.add(payment)
    ctx.session.flush()
    child = ctx.session.get(Person, enrolment.child_id)
    meta: dict[str, Any] = {"plugin": NAME, "case_id": case.id, "enrolment_id": enrolment.id, "payment_id": payment.id}
    if data.reference:
        meta["reference"] = data.reference
    amount = money(amount_minor, currency)
    text = f"School fees of {child.name if child else '?'} at {enrolment.school}" + (f" ({data.covers})" if data.covers else "")
    try:
        txn = post(ctx.session, book, data.paid_on, text, [
            debit(setting.expense_account, amount, currency),
            credit(account, amount, currency),
        ], payee=enrolment.school, meta=meta, links=[f"schooling-{enrolment.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise ActionRefused(exc.message, PAYMENT_FIELDS.get(exc.field or "", "__all__")) from None
    payment.txn_id = txn.id
    ctx.session.flush()
    payload = FeePaidEvent(payment_id=payment.id, enrolment_id=enrolment.id, amount=str(amount), currency=currency, txn_id=txn.id)  # type: ignore[arg-type]
    summary = f"{child.name if child else '?'}: {format_money(amount, currency)}"
    record_event(ctx, case, FEE_PAID, data.paid_on, summary=summary, payload=payload, system=True)
    return payment


def reverse_payment(ctx: Context, payment: FeePayment, data: ReverseIn) -> FeePayment:
    """Correct a wrong payment: post the reversal of its journal entry. The payment stays on the
    list, marked reversed; a payment is never edited. Writes ``schooling.fee_reversed``."""
    _require(ctx, MANAGE)
    if payment.reversed:
        raise ActionRefused(_("This payment is already reversed."), "reverse_reason")
    _not_future(ctx, data.reversed_on, "reversed_on")
    txn = ctx.session.scalar(select(JournalTransaction).where(JournalTransaction.id == payment.txn_id))
    if txn is None:  # pragma: no cover - every payment is written with its entry
        raise ActionRefused(_("This payment has no journal entry to reverse."))
    try:
        reversal = reverse(ctx.session, txn, data.reversed_on, data.reverse_reason, created_by=ctx.user.id)
    except LedgerError as exc:
        raise ActionRefused(exc.message, "reversed_on" if exc.field == "date" else "reverse_reason") from None
    payment.reversal_txn_id, payment.reversed_on, payment.reverse_reason = reversal.id, data.reversed_on, data.reverse_reason
    ctx.session.flush()
    case = ctx.session.scalar(select(Case).where(Case.id == payment.case_id, Case.org_id == ctx.org_id))
    assert case is not None
    payload = FeePaidEvent(payment_id=payment.id, enrolment_id=payment.enrolment_id, amount=str(money(payment.amount_minor, payment.currency)),
                           currency=payment.currency, txn_id=reversal.id, reason=data.reverse_reason)  # type: ignore[arg-type]
    record_event(ctx, case, FEE_REVERSED, data.reversed_on, summary=data.reverse_reason, payload=payload, system=True)
    return payment


# --- what pages show -------------------------------------------------------------------------------


@dataclass
class EnrolmentRow:
    """An enrolment with its child and the fees paid for it (reversed payments left out)."""

    enrolment: Enrolment
    child: Person
    paid_minor: int

    @property
    def paid(self) -> Decimal:
        return money(self.paid_minor, self.enrolment.currency)

    @property
    def fee(self) -> Decimal:
        return money(self.enrolment.fee_minor, self.enrolment.currency)


def case_rows(ctx: Context, case: Case) -> list[EnrolmentRow]:
    """The case's enrolments with the child and the fees paid, for the case tab."""
    enrolments = enrolments_of(ctx, case)
    if not enrolments:
        return []
    persons = {p.id: p for p in ctx.session.scalars(select(Person).where(
        Person.org_id == ctx.org_id, Person.id.in_({e.child_id for e in enrolments})))}
    paid = dict(ctx.session.execute(
        select(FeePayment.enrolment_id, func.sum(FeePayment.amount_minor))
        .where(FeePayment.org_id == ctx.org_id, FeePayment.case_id == case.id, FeePayment.reversal_txn_id.is_(None))
        .group_by(FeePayment.enrolment_id)
    ).all())
    return [EnrolmentRow(e, persons[e.child_id], int(paid.get(e.id) or 0)) for e in enrolments]


def totals(rows: list[EnrolmentRow]) -> dict[str, Decimal]:
    """Fees paid per currency over ``rows``."""
    out: dict[str, int] = {}
    for row in rows:
        out[row.enrolment.currency] = out.get(row.enrolment.currency, 0) + row.paid_minor
    return {c: money(out[c], c) for c in sorted(out)}


def overview(ctx: Context, limit: int = 200) -> list[tuple[Enrolment, Person, Case]]:
    """The organisation's latest enrolments with the child and the case, for the menu's page."""
    rows = ctx.session.execute(
        select(Enrolment, Case).join(Case, Case.id == Enrolment.case_id)
        .where(Enrolment.org_id == ctx.org_id, Case.org_id == ctx.org_id)
        .order_by(Enrolment.school_year.desc(), Enrolment.enrolled_on.desc(), Enrolment.id.desc()).limit(limit)
    ).all()
    persons = {p.id: p for p in ctx.session.scalars(select(Person).where(
        Person.org_id == ctx.org_id, Person.id.in_({e.child_id for e, _c in rows})))} if rows else {}
    return [(e, persons[e.child_id], c) for e, c in rows]


# --- report indicators -----------------------------------------------------------------------------


def enrolled_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Children enrolled per month from ``first`` to ``last``, by the day of enrolment. One query."""
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(Enrolment.enrolled_on, func.count())
        .where(Enrolment.org_id == ctx.org_id, Enrolment.enrolled_on >= first, Enrolment.enrolled_on <= last)
        .group_by(Enrolment.enrolled_on)
    ).all())
