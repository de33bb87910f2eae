"""The housing module's rules: the organisation's settings, the assessment of a family home,
repairs proposed item by item, builders' quotes approved within the ceiling per home or sent back,
payments to the supplier through the ledger with the invoice attached to the journal entry,
progress, the family's sign-off, the overdue list and the reports.

Every query is limited to ``ctx.org_id``. Services add and flush (files included: core stores
them in the database with the row) and post their journal entries through ``ledger.api`` in the
same session; the route commits once, so a payment, its entry, its invoice and its timeline
event are written together or not at all.
"""

from __future__ import annotations

import io
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Union

from litestar.datastructures import UploadFile
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.plugin_api import (
    by_month,
    ActionRefused,
    Attachment,
    Case,
    CaseStatus,
    Context,
    Organisation,
    Person,
    RecordNotFound,
    User,
    family_of,
    format_date,
    format_money,
    record_event,
    save_attachment,
    store_attachment,
)
from core.plugin_api import gettext as _
from ledger.api import (
    ClosedPeriod,
    Converter,
    Fund,
    JournalTransaction,
    LedgerError,
    attach_document,
    credit,
    debit,
    ensure_account,
    find_account,
    from_minor,
    general_book,
    get_fund,
    post,
    record_donor_income,
    require_available,
    reverse,
    to_minor,
)
from plugins.housing.models import Assessment, HouseholdMember, HousingAttachment, HousingSettings, Payment, Progress, Quote, Repair
from plugins.housing.schemas import (
    LABELS,
    OPEN_STATUSES,
    REPAIR_TYPES,
    STATUSES,
    ApproveIn,
    AssessedEvent,
    AssessmentIn,
    CancelIn,
    CancelledEvent,
    CompletedEvent,
    CompleteIn,
    PaymentEvent,
    PaymentIn,
    ProgressEvent,
    ProgressIn,
    QuoteEvent,
    QuoteIn,
    RepairEvent,
    RepairIn,
    ReverseIn,
    SendBackIn,
    SettingsIn,
)

NAME = "housing"
VIEW = "housing.view"
ASSESS = "housing.assess"
APPROVE = "housing.approve"
PAY = "housing.pay"
SETTINGS = "housing.settings"

ASSESSED = "housing.assessed"
REPAIR_PROPOSED = "housing.repair_proposed"
QUOTE_RECEIVED = "housing.quote_received"
QUOTE_APPROVED = "housing.quote_approved"
QUOTE_SENT_BACK = "housing.quote_sent_back"
PAYMENT_MADE = "housing.payment_made"
PAYMENT_REVERSED = "housing.payment_reversed"
PROGRESS = "housing.progress"
COMPLETED = "housing.completed"
CANCELLED = "housing.cancelled"

CURRENCIES = ("USD", "KHR")
MAX_FILES = 10
"""Files accepted in one form (several photos of a home)."""

Upload = Union[UploadFile, tuple[str, bytes]]
"""A posted file, or ``(file name, content)`` for demo data and imports."""


def _require(ctx: Context, permission: str) -> None:
    if not ctx.user.can(permission):
        raise ActionRefused(_("Your role does not allow this."))


def money(minor: int | None, currency: str | None) -> Decimal:
    """Minor units to a ``Decimal`` of the currency's precision."""
    return from_minor(minor or 0, currency or "USD")


def label(value: str | None) -> str:
    """The translated label of one of the module's choice values."""
    if value is None:
        return ""
    return _(LABELS[value]) if value in LABELS else value


def _money_text(minor: int, currency: str) -> str:
    return format_money(money(minor, currency), currency)


# --- settings --------------------------------------------------------------------------------------


def settings(ctx: Any) -> HousingSettings:
    """The organisation's settings (a fresh, unsaved row with the defaults when never set)."""
    row = ctx.session.get(HousingSettings, ctx.org_id)
    if row is None:
        row = HousingSettings(org_id=ctx.org_id, ceiling_currency="USD", expense_account="Expenses:Programme:Housing",
                              pay_from_usd="Assets:Bank:USD", pay_from_khr="Assets:Cash:KHR")
    return row


def funds(ctx: Context) -> list[Fund]:
    return list(ctx.session.scalars(select(Fund).where(Fund.org_id == ctx.org_id).order_by(Fund.code)))


def save_settings(ctx: Any, data: SettingsIn) -> HousingSettings:
    """Save the fund, the ceiling per home and the accounts (admin)."""
    _require(ctx, SETTINGS)
    if data.fund:
        try:
            get_fund(ctx.session, ctx.org_id, data.fund)
        except LedgerError:
            raise ActionRefused(_("Choose one of the options."), "fund") from None
    row = ctx.session.get(HousingSettings, ctx.org_id)
    if row is None:
        row = HousingSettings(org_id=ctx.org_id)
        ctx.session.add(row)
    row.fund_code = data.fund or None
    row.ceiling_currency = data.ceiling_currency
    row.ceiling_minor = to_minor(data.ceiling, data.ceiling_currency) if data.ceiling is not None else None
    row.expense_account, row.pay_from_usd, row.pay_from_khr = data.expense_account, data.pay_from_usd, data.pay_from_khr
    row.updated_by_id = ctx.user.id
    ctx.session.flush()
    return row


# --- lookups ---------------------------------------------------------------------------------------


def _one(ctx: Any, model: type, record_id: int) -> Any:
    row = ctx.session.scalar(select(model).where(model.id == record_id, model.org_id == ctx.org_id))
    if row is None:
        raise RecordNotFound
    return row


def get_repair(ctx: Any, repair_id: int) -> Repair:
    """The repair with this id in the organisation, or ``RecordNotFound`` (404)."""
    return _one(ctx, Repair, repair_id)


def get_assessment(ctx: Any, assessment_id: int) -> Assessment:
    return _one(ctx, Assessment, assessment_id)


def get_quote(ctx: Any, quote_id: int) -> Quote:
    return _one(ctx, Quote, quote_id)


def get_payment(ctx: Any, payment_id: int) -> Payment:
    return _one(ctx, Payment, payment_id)


def case_of(ctx: Any, repair: Repair) -> Case:
    case = ctx.session.scalar(select(Case).where(Case.id == repair.case_id, Case.org_id == ctx.org_id))
    assert case is not None
    return case


def assessments_of(ctx: Any, case: Case) -> list[Assessment]:
    """The case's assessments, newest first."""
    return list(ctx.session.scalars(
        select(Assessment).where(Assessment.org_id == ctx.org_id, Assessment.case_id == case.id)
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())
    ))


def repairs_of(ctx: Any, case: Case) -> list[Repair]:
    return list(ctx.session.scalars(
        select(Repair).where(Repair.org_id == ctx.org_id, Repair.case_id == case.id).order_by(Repair.planned_on, Repair.id)
    ))


def quotes_of(ctx: Any, repair: Repair) -> list[Quote]:
    return list(ctx.session.scalars(
        select(Quote).where(Quote.org_id == ctx.org_id, Quote.repair_id == repair.id).order_by(Quote.quoted_on, Quote.id)
    ))


def payments_of(ctx: Any, repair: Repair) -> list[Payment]:
    return list(ctx.session.scalars(
        select(Payment).where(Payment.org_id == ctx.org_id, Payment.repair_id == repair.id).order_by(Payment.paid_on, Payment.id)
    ))


def progress_of(ctx: Any, repair: Repair) -> list[Progress]:
    return list(ctx.session.scalars(
        select(Progress).where(Progress.org_id == ctx.org_id, Progress.repair_id == repair.id).order_by(Progress.recorded_on, Progress.id)
    ))


def approved_quote(ctx: Any, repair: Repair) -> Quote | None:
    return get_quote(ctx, repair.approved_quote_id) if repair.approved_quote_id else None


def paid_minor(ctx: Any, repair: Repair) -> int:
    """What was paid for the repair and not reversed, in the approved quote's currency."""
    return int(ctx.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .where(Payment.org_id == ctx.org_id, Payment.repair_id == repair.id, Payment.reversal_txn_id.is_(None))
    ) or 0)


def family(ctx: Any, case: Case) -> list[tuple[str, Person]]:
    """``(relation, person)``: the case's own person (``self``) and every relative linked to them."""
    return [("self", case.person)] + [(relation.value, person) for relation, person, _link in family_of(ctx, case.person)]


@dataclass
class Files:
    """A record's attachments, by role."""

    photos: list[Attachment] = field(default_factory=list)
    documents: list[tuple[str, Attachment]] = field(default_factory=list)  # (role, attachment) of quotes, invoices, sign-offs

    def add(self, role: str, attachment: Attachment) -> None:
        if role == "photo" or (role == "signoff" and attachment.kind == "image"):
            self.photos.append(attachment)
        if role != "photo":
            self.documents.append((role, attachment))


def files_of_case(ctx: Any, case_id: int) -> dict[tuple[str, int], Files]:
    """Every attachment of a case's records: ``{("assessment"|"quote"|"payment"|"progress"|"repair", id): Files}``."""
    rows = ctx.session.execute(
        select(HousingAttachment, Attachment).join(Attachment, Attachment.id == HousingAttachment.attachment_id)
        .where(HousingAttachment.org_id == ctx.org_id, HousingAttachment.case_id == case_id, Attachment.org_id == ctx.org_id)
        .order_by(HousingAttachment.id)
    ).all()
    out: dict[tuple[str, int], Files] = defaultdict(Files)
    for link, attachment in rows:
        for key in ("quote", "payment", "progress"):
            record = getattr(link, f"{key}_id")
            if record is not None:
                out[(key, record)].add(link.role, attachment)
                break
        else:
            if link.assessment_id is not None:
                out[("assessment", link.assessment_id)].add(link.role, attachment)
            elif link.repair_id is not None:
                out[("repair", link.repair_id)].add(link.role, attachment)
    return out


def _store(ctx: Any, files: Sequence[Upload], *, field: str, role: str, case_id: int, allowed: tuple[str, ...] = ("image", "pdf"),
           **links: int | None) -> list[Attachment]:
    """Check and store ``files`` and link them to the module's record (``links``: its ids)."""
    if len(files) > MAX_FILES:
        raise ActionRefused(_("Attach at most %(n)s files at once.", n=MAX_FILES), field)
    stored = []
    for upload in files:
        if isinstance(upload, tuple):
            attachment = save_attachment(ctx.session, ctx.org_id, filename=upload[0], content=upload[1], plugin=NAME,
                                         uploaded_by_id=ctx.user.id, allowed=allowed, field=field)
        else:
            attachment = store_attachment(ctx, upload, plugin=NAME, field=field, allowed=allowed)
        ctx.session.add(HousingAttachment(org_id=ctx.org_id, attachment_id=attachment.id, role=role, case_id=case_id, **links))
        stored.append(attachment)
    ctx.session.flush()
    return stored


def _event(ctx: Any, case: Case, kind: str, on: date, summary: str, payload: Any) -> None:
    record_event(ctx, case, kind, on, summary=summary[:200], payload=payload, system=True)


def _open_case(case: Case) -> None:
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: reopen it before changing its housing repairs."))


def _not_future(ctx: Any, day: date, field: str) -> None:
    if day > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), field)


# --- assessment and repairs ------------------------------------------------------------------------


def assess(ctx: Any, case: Case, data: AssessmentIn, photos: Sequence[Upload] = ()) -> Assessment:
    """Record the assessment of the case's family home, with its photos; writes ``housing.assessed``.

    :raises ActionRefused: the case is closed; the date is in the future; a person ticked is not
        the case's person or linked to them; a photo is not an image or too large.
    """
    _require(ctx, ASSESS)
    _open_case(case)
    _not_future(ctx, data.assessed_on, "assessed_on")
    linked = {p.id: relation for relation, p in family(ctx, case)}
    if any(pid not in linked for pid in data.household):
        raise ActionRefused(_("Only the person of the case and family members linked to them can be ticked."), "household")
    assessment = Assessment(
        org_id=ctx.org_id, case_id=case.id, assessed_on=data.assessed_on, roof=data.roof, walls=data.walls, floor=data.floor,
        broken=data.broken, urgency=data.urgency, notes=data.notes, assessed_by_id=ctx.user.id,
    )
    assessment.household = [HouseholdMember(org_id=ctx.org_id, person_id=pid, relation=linked[pid]) for pid in dict.fromkeys(data.household)]
    ctx.session.add(assessment)
    ctx.session.flush()
    stored = _store(ctx, photos, field="photos", role="photo", case_id=case.id, allowed=("image",), assessment_id=assessment.id)
    _event(ctx, case, ASSESSED, data.assessed_on, data.broken,
           AssessedEvent(assessment_id=assessment.id, urgency=data.urgency, household=len(assessment.household), photos=len(stored)))
    return assessment


def propose_repair(ctx: Any, case: Case, data: RepairIn) -> Repair:
    """Propose one repair item under the case's latest assessment; writes ``housing.repair_proposed``.

    :raises ActionRefused: the case is closed; the home is not assessed yet; the planned date is
        before the assessment.
    """
    _require(ctx, ASSESS)
    _open_case(case)
    assessments = assessments_of(ctx, case)
    if not assessments:
        raise ActionRefused(_("Assess the family home first: repairs are proposed from an assessment."))
    latest = assessments[0]
    if data.planned_on < latest.assessed_on:
        raise ActionRefused(_("The planned completion cannot be before the assessment (%(date)s).", date=format_date(latest.assessed_on)), "planned_on")
    repair = Repair(
        org_id=ctx.org_id, case_id=case.id, assessment_id=latest.id, repair_type=data.repair_type, description=data.description,
        planned_on=data.planned_on, status="proposed", proposed_by_id=ctx.user.id, proposed_on=ctx.today,
    )
    ctx.session.add(repair)
    ctx.session.flush()
    _event(ctx, case, REPAIR_PROPOSED, max(ctx.today, latest.assessed_on), data.description,
           RepairEvent(repair_id=repair.id, repair_type=data.repair_type, planned_on=data.planned_on))
    return repair


# --- quotes ----------------------------------------------------------------------------------------


def add_quote(ctx: Any, repair: Repair, data: QuoteIn, documents: Sequence[Upload]) -> Quote:
    """Record a builder's or supplier's quote with its document; the repair becomes ``quoted``.

    :raises ActionRefused: the case is closed; a quote is already approved, or the repair is
        completed or cancelled; the date is in the future; no document, or not a photo or PDF.
    """
    _require(ctx, ASSESS)
    case = case_of(ctx, repair)
    _open_case(case)
    if repair.status not in ("proposed", "quoted", "sent_back"):
        raise ActionRefused(_("This repair is %(status)s: no more quotes are taken.", status=label(repair.status).lower()))
    _not_future(ctx, data.quoted_on, "quoted_on")
    if not documents:
        raise ActionRefused(_("Attach the quote (a photo or a PDF)."), "quote_file")
    quote = Quote(
        org_id=ctx.org_id, repair_id=repair.id, supplier=data.supplier, phone=data.phone, amount_minor=to_minor(data.amount, data.currency),
        currency=data.currency, quoted_on=data.quoted_on, status="pending", added_by_id=ctx.user.id,
    )
    ctx.session.add(quote)
    ctx.session.flush()
    _store(ctx, documents, field="quote_file", role="quote", case_id=case.id, repair_id=repair.id, quote_id=quote.id)
    repair.status = "quoted"
    ctx.session.flush()
    _event(ctx, case, QUOTE_RECEIVED, data.quoted_on, f"{data.supplier}: {_money_text(quote.amount_minor, quote.currency)}",
           QuoteEvent(repair_id=repair.id, quote_id=quote.id, supplier=quote.supplier, amount=str(data.amount), currency=data.currency))
    return quote


def home_approved(ctx: Any, case_id: int, target: str, on: date, exclude_repair: int | None = None) -> Decimal:
    """The quotes approved for the case's home (repairs not cancelled), in ``target`` (the other
    currency converted at the ledger's rate of ``on``)."""
    rows = ctx.session.execute(
        select(Quote.currency, func.sum(Quote.amount_minor)).join(Repair, Repair.approved_quote_id == Quote.id)
        .where(Repair.org_id == ctx.org_id, Quote.org_id == ctx.org_id, Repair.case_id == case_id, Repair.status != "cancelled",
               Repair.id != (exclude_repair or 0))
        .group_by(Quote.currency)
    ).all()
    amounts = {currency: money(int(total), currency) for currency, total in rows if total}
    return Converter(ctx.session, ctx.org_id, target, on).total(amounts) if amounts else Decimal(0)


def approve_quote(ctx: Any, quote: Quote, data: ApproveIn) -> Repair:
    """Approve a quote (programme officer) when the home's approved quotes stay within the
    organisation's ceiling per home; the repair's other waiting quotes are not chosen.

    :raises ActionRefused: the quote is not waiting for a decision; the case is closed; no ceiling
        is set; the home would go above it; no exchange rate to compare the currencies.
    """
    _require(ctx, APPROVE)
    repair = get_repair(ctx, quote.repair_id)
    case = case_of(ctx, repair)
    _open_case(case)
    if quote.status != "pending" or repair.status != "quoted":
        raise ActionRefused(_("Only a quote waiting for a decision can be approved."), "decision")
    setting = settings(ctx)
    if setting.ceiling_minor is None:
        raise ActionRefused(_("No budget ceiling per home is set: an administrator sets it in the module's settings."), "decision")
    target = setting.ceiling_currency
    try:
        converter = Converter(ctx.session, ctx.org_id, target, ctx.today)
        this = converter(money(quote.amount_minor, quote.currency), quote.currency)
        before = home_approved(ctx, case.id, target, ctx.today)
    except LedgerError as exc:
        raise ActionRefused(exc.message, "decision") from None
    ceiling = money(setting.ceiling_minor, target)
    if before + this > ceiling:
        raise ActionRefused(
            _("Approving this quote would bring the repairs of this home to %(total)s, above the organisation's ceiling of %(ceiling)s per home.",
              total=format_money(before + this, target), ceiling=format_money(ceiling, target)),
            "decision",
        )
    quote.status, quote.reason, quote.decided_by_id, quote.decided_on = "approved", data.note, ctx.user.id, ctx.today
    for other in quotes_of(ctx, repair):
        if other.id != quote.id and other.status == "pending":
            other.status, other.decided_by_id, other.decided_on = "not_chosen", ctx.user.id, ctx.today
    repair.status, repair.approved_quote_id = "approved", quote.id
    ctx.session.flush()
    _event(ctx, case, QUOTE_APPROVED, ctx.today, f"{quote.supplier}: {_money_text(quote.amount_minor, quote.currency)}",
           QuoteEvent(repair_id=repair.id, quote_id=quote.id, supplier=quote.supplier, amount=str(money(quote.amount_minor, quote.currency)),
                      currency=quote.currency, reason=data.note))  # type: ignore[arg-type]
    return repair


def send_back(ctx: Any, quote: Quote, data: SendBackIn) -> Repair:
    """Send a quote back with the reason (kept with the quote and on the timeline); the repair
    is ``sent_back`` until a new quote comes (``quoted`` while other quotes still wait)."""
    _require(ctx, APPROVE)
    repair = get_repair(ctx, quote.repair_id)
    case = case_of(ctx, repair)
    _open_case(case)
    if quote.status != "pending" or repair.status != "quoted":
        raise ActionRefused(_("Only a quote waiting for a decision can be sent back."), "decision")
    quote.status, quote.reason, quote.decided_by_id, quote.decided_on = "sent_back", data.reason, ctx.user.id, ctx.today
    waiting = [q for q in quotes_of(ctx, repair) if q.status == "pending" and q.id != quote.id]
    repair.status = "quoted" if waiting else "sent_back"
    ctx.session.flush()
    _event(ctx, case, QUOTE_SENT_BACK, ctx.today, data.reason,
           QuoteEvent(repair_id=repair.id, quote_id=quote.id, supplier=quote.supplier, amount=str(money(quote.amount_minor, quote.currency)),
                      currency=quote.currency, reason=data.reason))  # type: ignore[arg-type]
    return repair


# --- payments --------------------------------------------------------------------------------------


NARRATION = {"advance": "advance payment", "completion": "payment on completion", "other": "payment"}
"""The journal's narration is English, like every entry of the books (an auditor's language), not the user's."""

LEDGER_FIELDS = {"date": "paid_on", "amount": "amount", "currency": "amount"}


def _refusal(exc: LedgerError) -> ActionRefused:
    return ActionRefused(exc.message, LEDGER_FIELDS.get(exc.field or "", "__all__"))


def pay(ctx: Any, repair: Repair, data: PaymentIn, invoices: Sequence[Upload]) -> Payment:
    """Pay the supplier of the approved quote: Dr the expense account, Cr the pay-from account of
    the quote's currency, charged to the module's fund, with the invoice attached to the entry
    (``ledger.api.attach_document``). The first payment starts the repair. Writes
    ``housing.payment_made``.

    :raises ActionRefused: not approved yet (or paid before the approval's date); beyond what is
        left of the approved quote; no invoice; the case is closed or the repair cancelled; a date
        in the future or in a closed period; no fund chosen; a restricted fund short of money; no
        pay-from account in the general book.
    """
    _require(ctx, PAY)
    case = case_of(ctx, repair)
    _open_case(case)
    if repair.status == "cancelled":
        raise ActionRefused(_("This repair is cancelled: nothing more is paid for it."))
    quote = approved_quote(ctx, repair)
    if quote is None:
        raise ActionRefused(_("No quote is approved for this repair yet: a programme officer approves one before anything is paid."), "amount")
    _not_future(ctx, data.paid_on, "paid_on")
    if quote.decided_on is not None and data.paid_on < quote.decided_on:
        raise ActionRefused(_("The quote was approved on %(date)s: a payment cannot be dated before its approval.",
                              date=format_date(quote.decided_on)), "paid_on")
    currency = quote.currency
    try:
        amount_minor = to_minor(data.amount, currency)
    except LedgerError:
        raise ActionRefused(_("US dollars have at most 2 decimal places.") if currency == "USD" else _("Riel are whole numbers."), "amount") from None
    left = quote.amount_minor - paid_minor(ctx, repair)
    if amount_minor > left:
        raise ActionRefused(
            _("%(amount)s is more than what is left to pay of the approved quote: %(left)s of %(quote)s.",
              amount=_money_text(amount_minor, currency), left=_money_text(max(left, 0), currency), quote=_money_text(quote.amount_minor, currency)),
            "amount",
        )
    if not invoices:
        raise ActionRefused(_("Attach the supplier's invoice or receipt (a photo or a PDF): every payment needs one."), "invoice")
    if len(invoices) > 1:
        raise ActionRefused(_("Attach one invoice per payment."), "invoice")
    setting = settings(ctx)
    if not setting.fund_code:
        raise ActionRefused(_("No fund is chosen for housing repairs: an administrator chooses it in the module's settings."), "amount")
    book = general_book(ctx.session, ctx.org_id)
    account = setting.pay_from(currency)
    if find_account(ctx.session, book, account) is None:
        raise ActionRefused(_("The general book has no account %(account)s: ask finance to open it in the chart of accounts.", account=account), "method")
    try:
        ensure_account(ctx.session, book, setting.expense_account, CURRENCIES)
        fund = get_fund(ctx.session, ctx.org_id, setting.fund_code)
        require_available(ctx.session, fund, money(amount_minor, currency), currency, data.paid_on)
    except LedgerError as exc:
        raise _refusal(exc) from None
    payment = Payment(
        org_id=ctx.org_id, repair_id=repair.id, case_id=case.id, quote_id=quote.id, kind=data.kind, amount_minor=amount_minor,
        currency=currency, paid_on=data.paid_on, method=data.method, reference=data.reference, fund_code=fund.code, account=account,
        recorded_by_id=ctx.user.id,
    )
    ctx.session.add(payment)
    ctx.session.flush()
    (invoice,) = _store(ctx, invoices, field="invoice", role="invoice", case_id=case.id, repair_id=repair.id, payment_id=payment.id)
    meta: dict[str, Any] = {"plugin": NAME, "case_id": case.id, "fund": fund.code, "repair_id": repair.id, "payment_id": payment.id,
                            "quote_id": quote.id, "method": data.method}
    if data.reference:
        meta["reference"] = data.reference
    amount = money(amount_minor, currency)
    text = f"Housing repair ({repair.repair_type}) for case {case.id}: {NARRATION[data.kind]}"
    try:
        txn = post(ctx.session, book, data.paid_on, text, [
            debit(setting.expense_account, amount, currency),
            credit(account, amount, currency),
        ], payee=quote.supplier, meta=meta, links=[f"housing-{repair.id}"], created_by=ctx.user.id)
        attach_document(ctx.session, txn, invoice)
    except LedgerError as exc:
        raise _refusal(exc) from None
    payment.txn_id = txn.id
    if repair.status == "approved":
        repair.status, repair.started_on = "in_progress", data.paid_on
    ctx.session.flush()
    _event(ctx, case, PAYMENT_MADE, data.paid_on, f"{quote.supplier}: {format_money(amount, currency)}",
           PaymentEvent(repair_id=repair.id, payment_id=payment.id, kind=data.kind, amount=str(amount), currency=currency, txn_id=txn.id))  # type: ignore[arg-type]
    return payment


def reverse_payment(ctx: Any, payment: Payment, data: ReverseIn) -> Payment:
    """Correct a wrong payment (finance): post the reversal of its journal entry; the payment stays
    on the repair, marked reversed, and no longer counts against the approved quote. Writes
    ``housing.payment_reversed``."""
    _require(ctx, PAY)
    if payment.reversed:
        raise ActionRefused(_("This payment is already reversed."))
    _not_future(ctx, data.reversed_on, "reversed_on")
    if data.reversed_on < payment.paid_on:
        raise ActionRefused(_("A reversal cannot be dated before the payment (%(date)s).", date=format_date(payment.paid_on)), "reversed_on")
    repair = get_repair(ctx, payment.repair_id)
    case = case_of(ctx, repair)
    txn = ctx.session.scalar(select(JournalTransaction).where(JournalTransaction.id == payment.txn_id))
    assert txn is not None
    try:
        reversal = reverse(ctx.session, txn, data.reversed_on, data.reverse_reason, created_by=ctx.user.id)
    except LedgerError as exc:
        field_name = "reversed_on" if exc.field == "date" else "reverse_reason"
        raise ActionRefused(exc.message, field_name) from None
    payment.reversal_txn_id, payment.reversed_on, payment.reverse_reason = reversal.id, data.reversed_on, data.reverse_reason
    ctx.session.flush()
    _event(ctx, case, PAYMENT_REVERSED, data.reversed_on, data.reverse_reason,
           PaymentEvent(repair_id=repair.id, payment_id=payment.id, kind=payment.kind, amount=str(money(payment.amount_minor, payment.currency)),  # type: ignore[arg-type]
                        currency=payment.currency, txn_id=reversal.id, reason=data.reverse_reason))  # type: ignore[arg-type]
    return payment


# --- progress, completion, cancellation ------------------------------------------------------------


def record_progress(ctx: Any, repair: Repair, data: ProgressIn, photos: Sequence[Upload] = ()) -> Progress:
    """Record how the works go, with photos; the first progress of an approved repair starts it."""
    _require(ctx, ASSESS)
    case = case_of(ctx, repair)
    _open_case(case)
    if repair.status not in ("approved", "in_progress"):
        raise ActionRefused(_("Progress is recorded once a quote is approved and until the repair is completed."))
    _not_future(ctx, data.progress_on, "progress_on")
    progress = Progress(org_id=ctx.org_id, repair_id=repair.id, recorded_on=data.progress_on, percent=data.percent, note=data.progress_note,
                        recorded_by_id=ctx.user.id)
    ctx.session.add(progress)
    ctx.session.flush()
    stored = _store(ctx, photos, field="progress_photos", role="photo", case_id=case.id, allowed=("image",), repair_id=repair.id,
                    progress_id=progress.id)
    if repair.status == "approved":
        repair.status, repair.started_on = "in_progress", data.progress_on
    ctx.session.flush()
    _event(ctx, case, PROGRESS, data.progress_on, data.progress_note,
           ProgressEvent(repair_id=repair.id, percent=data.percent, photos=len(stored)))
    return progress


def complete(ctx: Any, repair: Repair, data: CompleteIn, signoff: Sequence[Upload]) -> Repair:
    """The repair is finished and the family signs it off (who signed, the date, a photo or scan
    of the signed sheet); writes ``housing.completed``.

    :raises ActionRefused: not approved, already completed or cancelled; the signer is not the
        case's person or a linked relative; no sign-off document; a date in the future or before
        the approval.
    """
    _require(ctx, ASSESS)
    case = case_of(ctx, repair)
    _open_case(case)
    if repair.status not in ("approved", "in_progress"):
        raise ActionRefused(_("Only an approved repair, or one in progress, can be completed."))
    _not_future(ctx, data.completed_on, "completed_on")
    quote = approved_quote(ctx, repair)
    if quote is not None and quote.decided_on is not None and data.completed_on < quote.decided_on:
        raise ActionRefused(_("The quote was approved on %(date)s: the repair cannot be finished before that.", date=format_date(quote.decided_on)),
                            "completed_on")
    linked = {p.id for _r, p in family(ctx, case)}
    if data.signed_by not in linked:
        raise ActionRefused(_("The sign-off is given by the person of the case or a family member linked to them."), "signed_by")
    if not signoff:
        raise ActionRefused(_("Attach a photo or scan of the family's signed sign-off."), "signoff_file")
    _store(ctx, signoff, field="signoff_file", role="signoff", case_id=case.id, repair_id=repair.id)
    repair.status, repair.completed_on, repair.signed_by_id, repair.completion_note = "completed", data.completed_on, data.signed_by, data.completion_note
    repair.started_on = repair.started_on or data.completed_on
    ctx.session.flush()
    _event(ctx, case, COMPLETED, data.completed_on, repair.description, CompletedEvent(repair_id=repair.id, signed_by_id=data.signed_by))
    return repair


def cancel(ctx: Any, repair: Repair, data: CancelIn) -> Repair:
    """Give up a repair with the reason; refused once anything paid is not reversed, and for a
    completed repair."""
    _require(ctx, ASSESS)
    case = case_of(ctx, repair)
    if repair.status in ("completed", "cancelled"):
        raise ActionRefused(_("This repair is %(status)s: it cannot be cancelled.", status=label(repair.status).lower()))
    if paid_minor(ctx, repair):
        raise ActionRefused(_("Payments were made for this repair: finance reverses them before it can be cancelled."), "cancel_reason")
    repair.status, repair.cancelled_on, repair.cancel_reason = "cancelled", ctx.today, data.cancel_reason
    for quote in quotes_of(ctx, repair):
        if quote.status == "pending":
            quote.status = "not_chosen"
    ctx.session.flush()
    _event(ctx, case, CANCELLED, ctx.today, data.cancel_reason, CancelledEvent(repair_id=repair.id, reason=data.cancel_reason))
    return repair


# --- history --------------------------------------------------------------------------------------


def user_names(ctx: Any, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


@dataclass(frozen=True)
class Step:
    """One step in a repair's history: when, what (a translated sentence), by whom, and the
    record whose files go with it (``("quote", 12)``)."""

    day: date
    order: int
    text: str
    by: str = ""
    record: tuple[str, int] | None = None


def history(ctx: Any, repair: Repair) -> list[Step]:
    """Every step of the repair, oldest first: proposed, quotes received and decided, payments
    and reversals, progress, completion or cancellation."""
    quotes = quotes_of(ctx, repair)
    payments = payments_of(ctx, repair)
    progress = progress_of(ctx, repair)
    names = user_names(ctx, {repair.proposed_by_id} | {q.added_by_id for q in quotes} | {q.decided_by_id for q in quotes}
                       | {p.recorded_by_id for p in payments} | {p.recorded_by_id for p in progress})
    steps = [Step(repair.proposed_on, 0, _("Proposed: %(what)s", what=repair.description), names.get(repair.proposed_by_id or 0, ""))]
    for q in quotes:
        amount = _money_text(q.amount_minor, q.currency)
        steps.append(Step(q.quoted_on, 1, _("Quote from %(supplier)s: %(amount)s", supplier=q.supplier, amount=amount),
                          names.get(q.added_by_id or 0, ""), ("quote", q.id)))
        if q.decided_on and q.status == "approved":
            steps.append(Step(q.decided_on, 2, _("Quote from %(supplier)s approved (%(amount)s).", supplier=q.supplier, amount=amount)
                              + (f" {q.reason}" if q.reason else ""), names.get(q.decided_by_id or 0, "")))
        elif q.decided_on and q.status == "sent_back":
            steps.append(Step(q.decided_on, 2, _("Quote from %(supplier)s sent back: %(reason)s", supplier=q.supplier, reason=q.reason),
                              names.get(q.decided_by_id or 0, "")))
    for p in payments:
        amount = _money_text(p.amount_minor, p.currency)
        steps.append(Step(p.paid_on, 3, _("Paid %(amount)s (%(kind)s).", amount=amount, kind=label(p.kind).lower()),
                          names.get(p.recorded_by_id or 0, ""), ("payment", p.id)))
        if p.reversed_on:
            steps.append(Step(p.reversed_on, 4, _("Payment of %(amount)s reversed: %(reason)s", amount=amount, reason=p.reverse_reason)))
    for g in progress:
        text = _("Progress: %(note)s", note=g.note) if g.percent is None else _("Progress (%(percent)s%%): %(note)s", percent=g.percent, note=g.note)
        steps.append(Step(g.recorded_on, 5, text, names.get(g.recorded_by_id or 0, ""), ("progress", g.id)))
    if repair.completed_on:
        steps.append(Step(repair.completed_on, 6, _("Completed and signed off by the family."), record=("repair", repair.id)))
    if repair.cancelled_on:
        steps.append(Step(repair.cancelled_on, 7, _("Cancelled: %(reason)s", reason=repair.cancel_reason)))
    return sorted(steps, key=lambda s: (s.day, s.order))


# --- lists and the dashboard -----------------------------------------------------------------------


def is_overdue(repair: Repair, today: date) -> bool:
    return repair.status in OPEN_STATUSES and repair.planned_on < today


@dataclass(frozen=True)
class RepairRow:
    """A repair in the module's list."""

    repair: Repair
    case: Case
    approved_minor: int | None
    currency: str | None
    paid_minor: int
    overdue: bool


def repair_list(ctx: Context, status: str = "", repair_type: str = "", overdue: bool = False, limit: int = 500) -> list[RepairRow]:
    """The organisation's repairs (overdue first, then by planned date), filtered."""
    query = (
        select(Repair, Case, Quote.amount_minor, Quote.currency)
        .join(Case, Case.id == Repair.case_id)
        .outerjoin(Quote, Quote.id == Repair.approved_quote_id)
        .where(Repair.org_id == ctx.org_id, Case.org_id == ctx.org_id)
    )
    if status in STATUSES:
        query = query.where(Repair.status == status)
    if repair_type in REPAIR_TYPES:
        query = query.where(Repair.repair_type == repair_type)
    if overdue:
        query = query.where(Repair.status.in_(OPEN_STATUSES), Repair.planned_on < ctx.today)
    rows = ctx.session.execute(query.order_by(Repair.planned_on, Repair.id).limit(limit)).all()
    paid = paid_by_repair(ctx, [r.id for r, *_rest in rows])
    out = [RepairRow(r, c, amount, currency, paid.get(r.id, 0), is_overdue(r, ctx.today)) for r, c, amount, currency in rows]
    out.sort(key=lambda row: (not row.overdue, row.repair.planned_on, row.repair.id))
    return out


def paid_by_repair(ctx: Any, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {rid: int(total) for rid, total in ctx.session.execute(
        select(Payment.repair_id, func.sum(Payment.amount_minor))
        .where(Payment.org_id == ctx.org_id, Payment.repair_id.in_(ids), Payment.reversal_txn_id.is_(None)).group_by(Payment.repair_id)
    ).all()}


def overdue(ctx: Any, limit: int = 20) -> tuple[list[tuple[Repair, Case]], int]:
    """Repairs not finished by their planned date, the longest overdue first: the first ``limit``
    and how many in all."""
    condition = (Repair.org_id == ctx.org_id, Case.org_id == ctx.org_id, Repair.status.in_(OPEN_STATUSES), Repair.planned_on < ctx.today)
    total = ctx.session.scalar(select(func.count()).select_from(Repair).join(Case, Case.id == Repair.case_id).where(*condition)) or 0
    rows = ctx.session.execute(
        select(Repair, Case).join(Case, Case.id == Repair.case_id).where(*condition).order_by(Repair.planned_on, Repair.id).limit(limit)
    ).all()
    return [(r, c) for r, c in rows], total


def dashboard_panel(ctx: Context) -> str | None:
    """The dashboard's panel: repairs past their planned date and not completed."""
    rows, total = overdue(ctx)
    parts = [Markup('<section class="panel" id="housing-overdue"><h2>{}</h2>').format(escape(_("Housing repairs overdue")))]
    if not rows:
        parts.append(Markup('<p class="empty">{}</p>').format(_("No housing repair is past its planned date.")))
    else:
        parts.append(Markup('<table class="list"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>').format(
            _("Person"), _("Repair"), _("Planned completion"), _("Status")))
        for repair, case in rows:
            parts.append(Markup('<tr data-repair="{}"><td><a href="/housing/cases/{}">{}</a></td><td><a href="/housing/repairs/{}">{}</a></td>'
                                '<td>{}</td><td>{}</td></tr>').format(
                repair.id, case.id, case.person.name, repair.id, f"{label(repair.repair_type)}: {repair.description}"[:80],
                format_date(repair.planned_on), label(repair.status)))
        parts.append(Markup("</tbody></table>"))
        parts.append(Markup('<p><a href="/housing?overdue=1">{}</a></p>').format(_("All %(n)s overdue repairs", n=total)))
    parts.append(Markup("</section>"))
    return str(Markup("").join(parts))


# --- reports ---------------------------------------------------------------------------------------


@dataclass
class HomeCost:
    """What one home (case) cost: repairs, quotes approved and payments made (net of reversals), per currency."""

    case: Case
    repairs: int = 0
    completed: int = 0
    approved: dict[str, int] = field(default_factory=dict)
    paid: dict[str, int] = field(default_factory=dict)


@dataclass
class Durations:
    """Days from the assessment to the family's sign-off, over completed repairs."""

    days: list[int]

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def median(self) -> Decimal | None:
        return Decimal(str(statistics.median(self.days))) if self.days else None

    @property
    def mean(self) -> Decimal | None:
        return (Decimal(sum(self.days)) / len(self.days)).quantize(Decimal("0.1")) if self.days else None


@dataclass
class Report:
    """The module's figures: repairs by status and type, cost per home, time to completion."""

    counts: dict[tuple[str, str], int]
    homes: list[HomeCost]
    durations: Durations
    durations_by_type: dict[str, Durations]

    def count(self, status: str | None = None, repair_type: str | None = None) -> int:
        return sum(n for (s, t), n in self.counts.items() if (status is None or s == status) and (repair_type is None or t == repair_type))

    def paid_total(self, currency: str) -> int:
        return sum(h.paid.get(currency, 0) for h in self.homes)


def report(ctx: Context) -> Report:
    counts = {(s, t): int(n) for s, t, n in ctx.session.execute(
        select(Repair.status, Repair.repair_type, func.count()).where(Repair.org_id == ctx.org_id).group_by(Repair.status, Repair.repair_type)
    ).all()}
    homes: dict[int, HomeCost] = {}
    cases = {c.id: c for c in ctx.session.scalars(
        select(Case).where(Case.org_id == ctx.org_id, Case.id.in_(select(Repair.case_id).where(Repair.org_id == ctx.org_id)))
    )}
    for case_id, status, n in ctx.session.execute(
        select(Repair.case_id, Repair.status, func.count()).where(Repair.org_id == ctx.org_id).group_by(Repair.case_id, Repair.status)
    ).all():
        home = homes.setdefault(case_id, HomeCost(cases[case_id]))
        home.repairs += int(n)
        home.completed += int(n) if status == "completed" else 0
    for case_id, currency, total in ctx.session.execute(
        select(Repair.case_id, Quote.currency, func.sum(Quote.amount_minor)).join(Quote, Quote.id == Repair.approved_quote_id)
        .where(Repair.org_id == ctx.org_id, Repair.status != "cancelled").group_by(Repair.case_id, Quote.currency)
    ).all():
        homes[case_id].approved[currency] = int(total)
    for case_id, currency, total in ctx.session.execute(
        select(Payment.case_id, Payment.currency, func.sum(Payment.amount_minor))
        .where(Payment.org_id == ctx.org_id, Payment.reversal_txn_id.is_(None)).group_by(Payment.case_id, Payment.currency)
    ).all():
        homes[case_id].paid[currency] = int(total)
    done = ctx.session.execute(
        select(Repair.repair_type, Repair.completed_on, Assessment.assessed_on).join(Assessment, Assessment.id == Repair.assessment_id)
        .where(Repair.org_id == ctx.org_id, Repair.status == "completed")
    ).all()
    by_type: dict[str, list[int]] = defaultdict(list)
    for repair_type, completed_on, assessed_on in done:
        by_type[repair_type].append((completed_on - assessed_on).days)
    ordered = sorted(homes.values(), key=lambda h: (-sum(h.paid.values()), h.case.person.name))
    return Report(counts, ordered, Durations([d for days in by_type.values() for d in days]),
                  {t: Durations(sorted(by_type[t])) for t in REPAIR_TYPES if t in by_type})


def repairs_table(ctx: Context) -> tuple[list[str], list[list[Any]]]:
    """Every repair as a header and rows (CSV and Excel); amounts are ``Decimal`` or blank."""
    header = [_("Repair"), _("Case"), _("Person"), _("Type of repair"), _("What will be done"), _("Status"), _("Assessed on"),
              _("Planned completion"), _("Completed on"), _("Days from assessment to completion"), _("Overdue"), _("Supplier"),
              _("Approved amount"), _("Paid"), _("Currency")]
    rows = ctx.session.execute(
        select(Repair, Case, Assessment.assessed_on, Quote.supplier, Quote.amount_minor, Quote.currency)
        .join(Case, Case.id == Repair.case_id).join(Assessment, Assessment.id == Repair.assessment_id)
        .outerjoin(Quote, Quote.id == Repair.approved_quote_id)
        .where(Repair.org_id == ctx.org_id, Case.org_id == ctx.org_id).order_by(Repair.id)
    ).all()
    paid = paid_by_repair(ctx, [r.id for r, *_rest in rows])
    out = []
    for repair, case, assessed_on, supplier, amount, currency in rows:
        days = (repair.completed_on - assessed_on).days if repair.completed_on else ""
        out.append([
            repair.id, case.id, case.person.name, label(repair.repair_type), repair.description, label(repair.status), assessed_on,
            repair.planned_on, repair.completed_on or "", days, _("yes") if is_overdue(repair, ctx.today) else "",
            supplier or "", money(amount, currency) if amount else "", money(paid.get(repair.id, 0), currency) if currency else "", currency or "",
        ])
    return header, out


# --- demo data -------------------------------------------------------------------------------------

DEMO_COLOURS = [(176, 96, 64), (92, 140, 180), (120, 150, 90), (200, 170, 90), (150, 110, 160), (90, 160, 150)]


def demo_photo(caption: str, colour: tuple[int, int, int], fmt: str = "JPEG") -> bytes:
    """A small generated picture of a house (Pillow), for demo data."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (225, 235, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 190, 320, 240), fill=(110, 160, 90))
    draw.rectangle((80, 110, 240, 200), fill=colour, outline=(60, 40, 30), width=3)
    draw.polygon([(60, 115), (160, 45), (260, 115)], fill=(120, 70, 40), outline=(60, 40, 30))
    draw.rectangle((145, 150, 175, 200), fill=(70, 50, 35))
    draw.text((10, 10), caption[:40], fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def demo_pdf(lines: list[str]) -> bytes:
    """A one-page generated PDF (an invoice or a quote), for demo data."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (420, 300), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((20, 20 + 22 * n), line[:60], fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PDF", resolution=72)
    return out.getvalue()


DEMO_REPAIRS = [
    # (state, type, description, supplier, amount, currency)
    ("completed", "roof", "Replace the leaking thatch roof with metal sheets", "Heng Roofing", "420.00", "USD"),
    ("in_progress", "water", "Dig a well and fit a hand pump", "Kandal Water Works", "1200000", "KHR"),
    ("approved", "sanitation", "Build a pour-flush latrine", "Sok Builders", "260.00", "USD"),
    ("quoted", "walls", "Replace the rotten palm-leaf walls with wooden planks", "Chea Timber", "310.00", "USD"),
    ("sent_back", "floor", "Raise the floor above the flood line", "Meas Construction", "900.00", "USD"),
    ("proposed", "electricity", "Wire the house to the village grid", "", "", ""),
    ("cancelled", "other", "Fence the yard", "", "", ""),
]


def add_demo_repairs(
    session: Session, organisation: Organisation, cases: list[Case], staff: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    """Repairs in every state for a few homes, with generated photos, quotes, invoices and sign-off
    sheets, and payments posted to the general book with their invoices attached (through the
    services, so the books pass ``homecoming ledger check``)."""
    if not session.scalar(select(Fund.id).where(Fund.org_id == organisation.id, Fund.code == "Reintegration")):
        return
    rng = random.Random(organisation.id * 104729)
    worker_user = staff.get("case_manager") or staff["admin"]
    officer_user = staff.get("programme_officer") or staff["admin"]
    finance_user = staff.get("finance") or staff["admin"]
    admin = context_for(staff["admin"], today)
    book = general_book(session, organisation.id)
    closed = session.scalar(select(func.max(ClosedPeriod.through)).where(ClosedPeriod.book_id == book.id))
    start = max(today - timedelta(days=150), (closed + timedelta(days=1)) if closed else date.min)
    fund = get_fund(session, organisation.id, "Reintegration")
    record_donor_income(session, fund, start, Decimal("3000.00"), "USD", "Assets:Bank:USD", reference="Housing repairs",
                        created_by=finance_user.id)
    save_settings(admin, SettingsIn(fund="Reintegration", ceiling_currency="USD", ceiling=Decimal("1500.00")))
    candidates = [c for c in cases if c.status != CaseStatus.closed]
    homes: list[Case] = []
    for case in candidates:
        if len(homes) == 4:
            break
        if len(family(admin, case)) >= 2:
            homes.append(case)
    if len(homes) < 4:
        return

    def at(user: User, day: date) -> Context:
        return context_for(user, day)

    repair_no = 0
    for n, case in enumerate(homes):
        assessed_on = start + timedelta(days=7 + 9 * n)
        worker = at(worker_user, assessed_on)
        relatives = family(worker, case)
        assessment = assess(worker, case, AssessmentIn(
            assessed_on=assessed_on, household=[p.id for _r, p in relatives[:3]], roof=rng.choice(["thatch", "palm_leaves", "metal_sheets"]),
            walls=rng.choice(["palm_leaves", "wood", "bamboo"]), floor=rng.choice(["earth", "bamboo", "wood"]),
            broken="The roof leaks over the sleeping area; no latrine; the well is dry in the hot season.",
            urgency=["urgent", "high", "medium", "low"][n % 4], notes="The mother and two children live here; the son comes home after release.",
        ), [(f"home-{case.id}-{k}.jpg", demo_photo(f"Home of case {case.id}", DEMO_COLOURS[(n + k) % 6])) for k in range(2)])
        per_home = DEMO_REPAIRS[repair_no:repair_no + 2] if n < 3 else DEMO_REPAIRS[repair_no:]
        for state, kind, text, supplier, amount, currency in per_home:
            repair_no += 1
            day = assessed_on + timedelta(days=2)
            # the in-progress repair is overdue: planned for two weeks before today
            planned = today - timedelta(days=14) if state == "in_progress" else assessed_on + timedelta(days=60 + 10 * repair_no)
            repair = propose_repair(at(worker_user, day), case, RepairIn(repair_type=kind, description=text, planned_on=planned))  # type: ignore[arg-type]
            if state == "cancelled":
                cancel(at(worker_user, day + timedelta(days=5)), repair, CancelIn(cancel_reason="The family moved to a relative's house."))
                continue
            if state == "proposed":
                continue
            quote_day = day + timedelta(days=4)
            quote = add_quote(at(worker_user, quote_day), repair, QuoteIn(
                supplier=supplier, phone=f"012 {rng.randint(100, 999)} {rng.randint(100, 999)}", currency=currency,  # type: ignore[arg-type]
                amount=Decimal(amount), quoted_on=quote_day,
            ), [(f"quote-{repair.id}.pdf", demo_pdf([f"Quote: {supplier}", text, f"Total: {amount} {currency}"]))])
            if state == "quoted":
                continue
            decided = quote_day + timedelta(days=3)
            if state == "sent_back":
                send_back(at(officer_user, decided), quote, SendBackIn(reason="Get a second quote: this one is well above the usual price."))
                continue
            approve_quote(at(officer_user, decided), quote, ApproveIn(note="Within the ceiling; the family agrees."))
            if state == "approved":
                continue
            total = Decimal(amount)
            advance = (total * Decimal("0.4")).quantize(Decimal("1") if currency == "KHR" else Decimal("0.01"))
            paid_on = decided + timedelta(days=2)
            pay(at(finance_user, paid_on), repair, PaymentIn(kind="advance", amount=advance, paid_on=paid_on, method="bank_transfer" if currency == "USD" else "cash",
                                                              reference=f"TRF-{organisation.id}{repair.id:04d}A" if currency == "USD" else ""),
                [(f"invoice-{repair.id}-advance.pdf", demo_pdf([f"Invoice: {supplier}", "Advance payment", f"{advance} {currency}"]))])
            progress_on = paid_on + timedelta(days=6)
            record_progress(at(worker_user, progress_on), repair, ProgressIn(progress_on=progress_on, percent=50, progress_note="Materials delivered; half done."),
                            [(f"works-{repair.id}.jpg", demo_photo("Works under way", DEMO_COLOURS[repair_no % 6]))])
            if state == "in_progress":
                continue
            done_on = progress_on + timedelta(days=10)
            pay(at(finance_user, done_on), repair, PaymentIn(kind="completion", amount=total - advance, paid_on=done_on, method="bank_transfer",
                                                              reference=f"TRF-{organisation.id}{repair.id:04d}C"),
                [(f"invoice-{repair.id}-final.jpg", demo_photo(f"Invoice {supplier}", (240, 240, 240)))])
            signer = relatives[1][1] if len(relatives) > 1 else case.person
            complete(at(worker_user, done_on), repair, CompleteIn(completed_on=done_on, signed_by=signer.id, completion_note="The family is happy with the new roof."),
                     [(f"signoff-{repair.id}.jpg", demo_photo("Signed by the family", (250, 250, 230)))])
    session.flush()


# --- report indicators (the programme dashboard) ---------------------------------------------------


def completed_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Repairs completed (signed off by the family) per month from ``first`` to ``last``, by
    the day of completion. One query."""
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(Repair.completed_on, func.count())
        .where(Repair.org_id == ctx.org_id, Repair.status == "completed", Repair.completed_on >= first, Repair.completed_on <= last)
        .group_by(Repair.completed_on)
    ).all())
