"""The release-support module's rules: the organisation's settings, the stock of starter-pack
items (receipts posted as an asset, issues expensed at average cost), the release-day record
(fare home, food, nights of accommodation and starter-pack items, posted in one journal entry),
its reversal, and the release-day checklist.

Every query is limited to ``ctx.org_id``. Services add and flush, and post their journal entry
through ``ledger.api`` in the same session; the route commits once (``core.plugin_api.act``), so
a record and its entry are written together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.plugin_api import (
    ActionRefused,
    Case,
    CaseStatus,
    Context,
    InvalidInput,
    Organisation,
    RecordNotFound,
    User,
    by_month,
    format_date,
    format_money,
    record_event,
    staff,
)
from core.plugin_api import gettext as _
from ledger.api import (
    ClosedPeriod,
    Converter,
    Fund,
    JournalTransaction,
    LedgerError,
    check_payment_accounts,
    credit,
    debit,
    ensure_account,
    find_account,
    from_minor,
    general_book,
    get_fund,
    payment_accounts,
    post,
    record_donor_income,
    require_available,
    reverse,
    to_minor,
)
from plugins.release_support.models import ChecklistStep, ReleaseLine, ReleaseRecord, StockItem, StockReceipt, SupportSettings
from plugins.release_support.schemas import (
    DIGITS,
    DOCUMENTS,
    LABELS,
    STEPS,
    ItemIn,
    ReceiptIn,
    RecordIn,
    ReversalEvent,
    ReverseIn,
    SettingsIn,
    StepEvent,
    StepIn,
    SupportEvent,
)

NAME = "release_support"
VIEW = "release_support.view"
RECORD = "release_support.record"
STOCK = "release_support.stock"
CORRECT = "release_support.correct"
SETTINGS = "release_support.settings"

SUPPORT_GIVEN = "release_support.support_given"
SUPPORT_REVERSED = "release_support.support_reversed"
COLLECTED = "release_support.collected"
REACHED_HOME = "release_support.reached_home"
DOCUMENT_IN_HAND = "release_support.document_in_hand"
STEP_KINDS = {"collected": COLLECTED, "reached_home": REACHED_HOME, **{d: DOCUMENT_IN_HAND for d in DOCUMENTS}}

EXPENSE = "Expenses:Programme:Release-Support"
STOCK_ACCOUNT = "Assets:Stock:Release-Packs"
CURRENCIES = ("USD", "KHR")
RELEASED = (CaseStatus.released, CaseStatus.follow_up)


def _require(ctx: Context, permission: str) -> None:
    if not ctx.user.can(permission):
        raise ActionRefused(_("Your role does not allow this."))


def money(minor: int | None, currency: str | None) -> Decimal:
    """Minor units to a ``Decimal`` of the currency's precision."""
    return from_minor(minor or 0, currency or "USD")


def _minor(amount: Decimal | None, currency: str) -> int:
    return to_minor(amount, currency) if amount else 0


def _show(minor: int, currency: str) -> str:
    return format_money(money(minor, currency), currency)


def label(value: str) -> str:
    """The translated label of one of the module's choice values (a step, a cost item)."""
    return _(LABELS[value]) if value in LABELS else value


# --- the general book ------------------------------------------------------------------------------


def pay_accounts(ctx: Context, currency: str | None = None) -> list[str]:
    """The general book's open asset accounts money can be paid from (every ``Assets:`` account
    but the stock), allowing ``currency`` when given."""
    return payment_accounts(ctx.session, ctx.org_id, currency, exclude=[STOCK_ACCOUNT])


def _refusal(exc: LedgerError, fields: dict[str, str], default: str = "__all__") -> ActionRefused:
    return ActionRefused(exc.message, fields.get(exc.field or "", default))


# --- settings --------------------------------------------------------------------------------------


def settings(ctx: Any) -> SupportSettings:
    """The organisation's settings (a fresh, unsaved row with the defaults when never set)."""
    row = ctx.session.get(SupportSettings, ctx.org_id)
    if row is None:
        row = SupportSettings(org_id=ctx.org_id, expense_account=EXPENSE, currency="KHR", fare_minor=0, food_per_day_minor=0, night_rate_minor=0)
    return row


def funds(ctx: Context) -> list[Fund]:
    return list(ctx.session.scalars(select(Fund).where(Fund.org_id == ctx.org_id).order_by(Fund.code)))


def save_settings(ctx: Any, data: SettingsIn, thresholds: dict[int, int] | None = None) -> SupportSettings:
    """Save the fund, the accounts, the default amounts, the ceilings and each item's low-stock
    threshold (admin).

    :raises ActionRefused: an unknown fund, or a pay-from account that is not an open asset
        account of the general book allowing its currency.
    """
    _require(ctx, SETTINGS)
    if data.fund:
        try:
            get_fund(ctx.session, ctx.org_id, data.fund)
        except LedgerError:
            raise ActionRefused(_("Choose one of the options."), "fund") from None
    errors = check_payment_accounts(ctx.session, ctx.org_id, {"pay_from_usd": ("USD", data.pay_from_usd), "pay_from_khr": ("KHR", data.pay_from_khr)},
                                    exclude=[STOCK_ACCOUNT])
    for item_id, value in (thresholds or {}).items():
        if value < 0 or value > 1_000_000:
            errors[f"low_{item_id}"] = _("Enter a whole number, zero or more.")
    if errors:
        raise InvalidInput(errors)
    row = ctx.session.get(SupportSettings, ctx.org_id)
    if row is None:
        row = SupportSettings(org_id=ctx.org_id)
        ctx.session.add(row)
    row.fund_code = data.fund or None
    row.expense_account = data.expense_account
    row.pay_from_usd, row.pay_from_khr = data.pay_from_usd or None, data.pay_from_khr or None
    row.currency = data.currency
    row.fare_minor, row.food_per_day_minor = _minor(data.fare, data.currency), _minor(data.food_per_day, data.currency)
    row.night_rate_minor = _minor(data.night_rate, data.currency)
    row.ceiling_usd_minor = to_minor(data.ceiling_usd, "USD") if data.ceiling_usd is not None else None
    row.ceiling_khr_minor = to_minor(data.ceiling_khr, "KHR") if data.ceiling_khr is not None else None
    row.updated_by_id, row.updated_at = ctx.user.id, datetime.now(timezone.utc)
    if thresholds:
        for item in items(ctx):
            if item.id in thresholds:
                item.low_at = thresholds[item.id]
    ctx.session.flush()
    return row


# --- stock -----------------------------------------------------------------------------------------


def items(ctx: Any) -> list[StockItem]:
    return list(ctx.session.scalars(select(StockItem).where(StockItem.org_id == ctx.org_id).order_by(StockItem.name)))


def get_item(ctx: Any, item_id: int, field: str = "item") -> StockItem:
    item = ctx.session.scalar(select(StockItem).where(StockItem.org_id == ctx.org_id, StockItem.id == item_id))
    if item is None:
        raise ActionRefused(_("Choose one of the options."), field)
    return item


def add_item(ctx: Any, data: ItemIn) -> StockItem:
    """Add an item to the stock list (stock managers)."""
    _require(ctx, STOCK)
    if ctx.session.scalar(select(StockItem.id).where(StockItem.org_id == ctx.org_id, func.lower(StockItem.name) == data.name.lower())):
        raise ActionRefused(_("There is already an item with this name."), "name")
    item = StockItem(org_id=ctx.org_id, name=data.name, unit=data.unit, currency=data.currency, low_at=data.low_at, created_by_id=ctx.user.id)
    ctx.session.add(item)
    ctx.session.flush()
    return item


@dataclass(frozen=True)
class Level:
    """An item's stock: received, issued (to releases not reversed), on hand, its value at cost
    and whether it is low (at or below the item's threshold)."""

    item: StockItem
    received: int
    issued: int
    value_minor: int

    @property
    def on_hand(self) -> int:
        return self.received - self.issued

    @property
    def low(self) -> bool:
        return self.on_hand <= self.item.low_at

    @property
    def average_minor(self) -> Decimal:
        """The average cost of a unit on hand, in minor units (not rounded)."""
        return Decimal(self.value_minor) / self.on_hand if self.on_hand else Decimal(0)


def levels(ctx: Any) -> list[Level]:
    """Every item's stock level and value, by name."""
    received = {i: (q, v) for i, q, v in ctx.session.execute(
        select(StockReceipt.item_id, func.sum(StockReceipt.quantity), func.sum(StockReceipt.quantity * StockReceipt.unit_cost_minor))
        .where(StockReceipt.org_id == ctx.org_id).group_by(StockReceipt.item_id)
    )}
    issued = {i: (q, v) for i, q, v in ctx.session.execute(
        select(ReleaseLine.item_id, func.sum(ReleaseLine.quantity), func.sum(ReleaseLine.cost_minor))
        .join(ReleaseRecord, ReleaseRecord.id == ReleaseLine.record_id)
        .where(ReleaseLine.org_id == ctx.org_id, ReleaseRecord.org_id == ctx.org_id, ReleaseRecord.reversal_txn_id.is_(None))
        .group_by(ReleaseLine.item_id)
    )}
    out = []
    for item in items(ctx):
        rq, rv = received.get(item.id, (0, 0))
        iq, iv = issued.get(item.id, (0, 0))
        out.append(Level(item, int(rq or 0), int(iq or 0), int(rv or 0) - int(iv or 0)))
    return out


def low_stock(ctx: Any) -> list[Level]:
    return [level for level in levels(ctx) if level.low]


def receipts(ctx: Any, limit: int = 200) -> list[StockReceipt]:
    return list(ctx.session.scalars(
        select(StockReceipt).where(StockReceipt.org_id == ctx.org_id).order_by(StockReceipt.received_on.desc(), StockReceipt.id.desc()).limit(limit)
    ))


RECEIPT_FIELDS = {"date": "received_on", "amount": "unit_cost", "postings": "paid_from", "currency": "unit_cost"}


def receive(ctx: Any, data: ReceiptIn) -> StockReceipt:
    """Record stock received and post it: Dr ``Assets:Stock:Release-Packs``, Cr the account it was
    paid from (default: the settings' pay-from account of the item's currency). No fund is
    charged here: buying stock turns money into goods; the fund pays when the goods are given.

    :raises ActionRefused: an unknown item, a date in the future, a cost finer than the item's
        currency allows, or a pay-from account that is not an open asset account holding it.
    """
    _require(ctx, STOCK)
    item = get_item(ctx, data.item)
    if data.received_on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "received_on")
    scaled = data.unit_cost.scaleb(DIGITS[item.currency])
    if scaled != scaled.to_integral_value():
        raise ActionRefused(_("US dollars have at most 2 decimal places.") if item.currency == "USD" else _("Riel are whole numbers."), "unit_cost")
    paid_from = data.paid_from or settings(ctx).pay_from(item.currency) or ""
    if paid_from not in pay_accounts(ctx, item.currency):
        raise ActionRefused(_("Choose an open asset account of the general book that holds %(currency)s.", currency=item.currency), "paid_from")
    receipt = StockReceipt(
        org_id=ctx.org_id, item_id=item.id, received_on=data.received_on, quantity=data.quantity,
        unit_cost_minor=to_minor(data.unit_cost, item.currency), currency=item.currency, supplier=data.supplier, paid_from=paid_from,
        recorded_by_id=ctx.user.id,
    )
    ctx.session.add(receipt)
    ctx.session.flush()
    book = general_book(ctx.session, ctx.org_id)
    ensure_account(ctx.session, book, STOCK_ACCOUNT, CURRENCIES)
    total = money(receipt.total_minor, item.currency)
    meta: dict[str, Any] = {"plugin": NAME, "receipt_id": receipt.id}
    if receipt.supplier:
        meta["supplier"] = receipt.supplier
    try:
        txn = post(ctx.session, book, receipt.received_on, f"Release-pack stock: {receipt.quantity} {item.unit} {item.name}", [
            debit(STOCK_ACCOUNT, total, item.currency), credit(paid_from, total, item.currency),
        ], meta=meta, links=[f"stock-receipt-{receipt.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, RECEIPT_FIELDS) from None
    receipt.txn_id = txn.id
    ctx.session.flush()
    return receipt


def _issue_cost(level: Level, quantity: int) -> int:
    """The cost of ``quantity`` units at the item's average cost, in minor units (half to even);
    the last units on hand take the whole remaining value, so the stock account empties exactly."""
    if quantity >= level.on_hand:
        return level.value_minor
    return round(Fraction(level.value_minor * quantity, level.on_hand))


# --- the release-day record ------------------------------------------------------------------------


def released_on(case: Case) -> date | None:
    return case.actual_release


def _check_released(ctx: Any, case: Case, day: date | None = None) -> None:
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: support at release can no longer be recorded."), "given_on")
    if case.actual_release is None and case.status not in RELEASED:
        raise ActionRefused(_("The person is not released yet: record the release on the case first."), "given_on")
    if day is not None:
        if day > ctx.today:
            raise ActionRefused(_("The date cannot be in the future."), "given_on")
        if case.actual_release is not None and day < case.actual_release:
            raise ActionRefused(_("The person was released on %(date)s: support is given on or after that day.", date=format_date(case.actual_release)), "given_on")


RECORD_FIELDS = {"date": "given_on", "amount": "fare", "currency": "currency", "postings": "__all__", "meta": "__all__"}


def record_support(ctx: Any, case: Case, data: RecordIn, quantities: dict[int, int]) -> ReleaseRecord:
    """Record what was given on the day of release and post it in one journal entry:
    Dr the expense account (per currency), Cr the pay-from account for the fare, food and
    accommodation, Cr ``Assets:Stock:Release-Packs`` for the starter pack at average cost;
    metadata ``case_id``, ``plugin``, ``fund``, ``release_id``; link ``release-<id>``.
    Writes ``release_support.support_given``.

    :raises ActionRefused: the case is closed or not released, the date is in the future or
        before the release; nothing given; a day or night count without its amount (or the
        reverse); an item not in stock enough; the total above the ceiling; no fund, or a
        restricted fund short; no pay-from account.
    """
    _require(ctx, RECORD)
    _check_released(ctx, case, data.given_on)
    currency = data.currency
    people = {user.id: user for user, _role in staff(ctx)}
    handed = data.handed_over_by if data.handed_over_by is not None else ctx.user.id
    if handed not in people:
        raise ActionRefused(_("Choose a staff member of the organisation."), "handed_over_by")
    fare = _minor(data.fare, currency)
    per_day, rate = _minor(data.food_per_day, currency), _minor(data.night_rate, currency)
    if per_day and not data.food_days:
        raise ActionRefused(_("Enter the number of days of food."), "food_days")
    if data.food_days and not per_day:
        raise ActionRefused(_("Enter the food money per day."), "food_per_day")
    if rate and not data.nights:
        raise ActionRefused(_("Enter the number of nights."), "nights")
    if data.nights and not rate:
        raise ActionRefused(_("Enter the cost of a night."), "night_rate")
    food = per_day * data.food_days
    cash = fare + food + rate * data.nights

    wanted = {item_id: qty for item_id, qty in quantities.items() if qty > 0}
    if wanted:  # lock the items' rows (PostgreSQL) so two issues at once cannot both take the last units
        list(ctx.session.scalars(select(StockItem.id).where(StockItem.org_id == ctx.org_id, StockItem.id.in_(wanted)).with_for_update()))
    stock = {level.item.id: level for level in levels(ctx)}
    lines: list[ReleaseLine] = []
    for item_id, qty in wanted.items():
        level = stock.get(item_id)
        if level is None:
            raise ActionRefused(_("Choose among the items shown."), f"qty_{item_id}")
        if qty > level.on_hand:
            raise ActionRefused(
                _("Only %(n)s %(unit)s of %(item)s in stock.", n=level.on_hand, unit=level.item.unit, item=level.item.name), f"qty_{item_id}",
            )
        lines.append(ReleaseLine(org_id=ctx.org_id, item_id=item_id, quantity=qty, cost_minor=_issue_cost(level, qty), currency=level.item.currency))
    if cash <= 0 and not lines:
        raise ActionRefused(_("Nothing is given: enter the fare, food, accommodation or starter-pack items."), "fare")

    totals: dict[str, int] = defaultdict(int)
    if cash:
        totals[currency] += cash
    for line in lines:
        totals[line.currency] += line.cost_minor
    totals = {c: v for c, v in totals.items() if v}
    setting = settings(ctx)
    try:
        in_currency = Converter(ctx.session, ctx.org_id, currency, data.given_on).total({c: money(v, c) for c, v in totals.items()})
    except LedgerError as exc:
        raise ActionRefused(exc.message, "currency") from None
    ceiling = setting.ceiling_minor(currency)
    if ceiling is not None and in_currency > money(ceiling, currency):
        raise ActionRefused(
            _("The support given (%(total)s) is above the organisation's ceiling of %(ceiling)s per release.",
              total=format_money(in_currency, currency), ceiling=_show(ceiling, currency)),
            "fare",
        )
    if not setting.fund_code:
        raise ActionRefused(_("No fund is chosen for release support: an administrator chooses it in the module's settings."))
    book = general_book(ctx.session, ctx.org_id)
    pay_from = setting.pay_from(currency)
    if cash and (not pay_from or find_account(ctx.session, book, pay_from) is None):
        raise ActionRefused(_("No account to pay %(currency)s from: an administrator chooses it in the module's settings.", currency=currency), "currency")
    try:
        fund = get_fund(ctx.session, ctx.org_id, setting.fund_code)
        require_available(ctx.session, fund, in_currency, currency, data.given_on)
    except LedgerError as exc:
        raise _refusal(exc, RECORD_FIELDS) from None
    ensure_account(ctx.session, book, setting.expense_account, CURRENCIES)

    record = ReleaseRecord(
        org_id=ctx.org_id, case_id=case.id, given_on=data.given_on, currency=currency, fare_minor=fare, food_days=data.food_days,
        food_minor=food, nights=data.nights, night_rate_minor=rate, handed_over_by_id=handed, notes=data.notes, fund_code=fund.code,
        recorded_by_id=ctx.user.id,
    )
    record.lines = lines
    ctx.session.add(record)
    ctx.session.flush()
    legs = [debit(setting.expense_account, money(totals[c], c), c) for c in sorted(totals)]
    if cash:
        legs.append(credit(pay_from or "", money(cash, currency), currency))
    pack: dict[str, int] = defaultdict(int)
    for line in lines:
        pack[line.currency] += line.cost_minor
    legs += [credit(STOCK_ACCOUNT, money(pack[c], c), c) for c in sorted(pack) if pack[c]]
    try:
        txn = post(ctx.session, book, data.given_on, f"Support at release: case {case.id}", legs,
                   meta={"plugin": NAME, "case_id": case.id, "fund": fund.code, "release_id": record.id},
                   links=[f"release-{record.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, RECORD_FIELDS) from None
    record.txn_id = txn.id
    ctx.session.flush()
    payload = SupportEvent(record_id=record.id, currency=currency, cash=str(money(cash, currency)),  # type: ignore[arg-type]
                           items=sum(line.quantity for line in lines))
    _event(ctx, case, SUPPORT_GIVEN, data.given_on, _summary(ctx, record), payload)
    return record


def _summary(ctx: Any, record: ReleaseRecord) -> str:
    names = {i.id: i.name for i in items(ctx)}
    parts = [f"{_show(record.cash_minor, record.currency)}"] if record.cash_minor else []
    parts += [f"{line.quantity} × {names.get(line.item_id, '?')}" for line in record.lines]
    return ", ".join(parts)[:200]


def get_record(ctx: Any, record_id: int) -> ReleaseRecord:
    """The record with this id in the current organisation, or :class:`RecordNotFound`."""
    record = ctx.session.scalar(select(ReleaseRecord).where(ReleaseRecord.org_id == ctx.org_id, ReleaseRecord.id == record_id))
    if record is None:
        raise RecordNotFound
    return record


REVERSE_FIELDS = {"date": "reversed_on", "reason": "reason"}


def reverse_record(ctx: Any, record: ReleaseRecord, data: ReverseIn) -> ReleaseRecord:
    """Correct a record made in error: reverse its journal entry (``ledger.api.reverse``: the
    expense, the cash and the stock come back) and mark it reversed; its items count as in stock
    again. Writes ``release_support.support_reversed``.

    :raises ActionRefused: already reversed; the date is in the future, before the entry or in a
        closed period; no reason.
    """
    _require(ctx, CORRECT)
    if record.reversed:
        raise ActionRefused(_("This record is already reversed."))
    if data.reversed_on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "reversed_on")
    book = general_book(ctx.session, ctx.org_id)
    txn = ctx.session.scalar(select(JournalTransaction).where(JournalTransaction.id == record.txn_id, JournalTransaction.book_id == book.id))
    if txn is None:
        raise ActionRefused(_("The journal entry of this record is not in the general book."))
    try:
        mirror = reverse(ctx.session, txn, data.reversed_on, data.reason, created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc, REVERSE_FIELDS) from None
    record.reversal_txn_id, record.reversed_on, record.reversed_by_id, record.reversal_reason = mirror.id, data.reversed_on, ctx.user.id, data.reason
    ctx.session.flush()
    case = ctx.session.scalar(select(Case).where(Case.org_id == ctx.org_id, Case.id == record.case_id))
    _event(ctx, case, SUPPORT_REVERSED, data.reversed_on, data.reason[:200], ReversalEvent(record_id=record.id, reason=data.reason))
    return record


def records(ctx: Any, case: Case | None = None, limit: int = 1000, offset: int = 0) -> list[ReleaseRecord]:
    """Release-day records, newest first (of one case, or of the organisation), ``limit`` of them
    after the first ``offset``."""
    query = select(ReleaseRecord).where(ReleaseRecord.org_id == ctx.org_id)
    if case is not None:
        query = query.where(ReleaseRecord.case_id == case.id)
    return list(ctx.session.scalars(query.order_by(ReleaseRecord.given_on.desc(), ReleaseRecord.id.desc()).limit(limit).offset(offset)))


def cases_by_id(ctx: Any, ids: set[int]) -> dict[int, Case]:
    if not ids:
        return {}
    return {c.id: c for c in ctx.session.scalars(select(Case).where(Case.org_id == ctx.org_id, Case.id.in_(ids)))}


def user_names(ctx: Any, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def pack_cost(record: ReleaseRecord) -> dict[str, Decimal]:
    """The starter pack's cost per currency."""
    out: dict[str, int] = defaultdict(int)
    for line in record.lines:
        out[line.currency] += line.cost_minor
    return {c: money(v, c) for c, v in sorted(out.items())}


def record_table(ctx: Context) -> tuple[list[str], list[list[Any]]]:
    """The list of releases as a header and rows (CSV and Excel); amounts are ``Decimal``."""
    rows = records(ctx, limit=100_000)
    cases = cases_by_id(ctx, {r.case_id for r in rows})
    names = {i.id: i.name for i in items(ctx)}
    users = user_names(ctx, {r.handed_over_by_id for r in rows})
    header = [_("Date"), _("Person"), _("Prisoner number"), _("Case"), _("Currency"), _("Fare home"), _("Food"), _("Accommodation"),
              _("Fare, food and accommodation"), _("Starter pack"), _("Starter pack cost (USD)"), _("Starter pack cost (KHR)"),
              _("Fund"), _("Handed over by"), _("Reversed on"), _("Journal entry")]
    out = []
    for r in rows:
        case = cases.get(r.case_id)
        pack = pack_cost(r)
        out.append([
            r.given_on, case.person.name if case else "", (case.prisoner_number or "") if case else "", r.case_id, r.currency,
            money(r.fare_minor, r.currency), money(r.food_minor, r.currency), money(r.accommodation_minor, r.currency),
            money(r.cash_minor, r.currency), "; ".join(f"{line.quantity} × {names.get(line.item_id, '?')}" for line in r.lines),
            pack.get("USD", money(0, "USD")), pack.get("KHR", money(0, "KHR")), r.fund_code or "", users.get(r.handed_over_by_id or 0, ""),
            r.reversed_on or "", r.txn_id or "",
        ])
    return header, out


# --- the release-day checklist ---------------------------------------------------------------------


def checklist(ctx: Any, case: Case) -> dict[str, ChecklistStep]:
    """The case's ticked steps by step."""
    return {s.step: s for s in ctx.session.scalars(select(ChecklistStep).where(ChecklistStep.org_id == ctx.org_id, ChecklistStep.case_id == case.id))}


def tick(ctx: Any, case: Case, data: StepIn) -> ChecklistStep:
    """Tick a step of the release-day checklist (again: update its date and details) and write its
    timeline event (``collected``, ``reached_home`` or ``document_in_hand``).

    :raises ActionRefused: the case is closed; the date is in the future; "collected" or
        "reached home" before the release date; "reached home" before "collected".
    """
    _require(ctx, RECORD)
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: its checklist can no longer change."), "done_on")
    if data.done_on > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "done_on")
    done = checklist(ctx, case)
    if data.step in ("collected", "reached_home"):
        if case.actual_release is not None and data.done_on < case.actual_release:
            raise ActionRefused(_("The person was released on %(date)s: this step comes on or after that day.", date=format_date(case.actual_release)), "done_on")
        collected = done.get("collected")
        if data.step == "reached_home" and collected is not None and data.done_on < collected.done_on:
            raise ActionRefused(_("The person was collected on %(date)s: they reached home on or after that day.", date=format_date(collected.done_on)), "done_on")
    row = done.get(data.step)
    if row is None:
        row = ChecklistStep(org_id=ctx.org_id, case_id=case.id, step=data.step)
        ctx.session.add(row)
    row.done_on, row.detail, row.ticked_by_id, row.ticked_at = data.done_on, data.detail, ctx.user.id, datetime.now(timezone.utc)
    ctx.session.flush()
    _event(ctx, case, STEP_KINDS[data.step], data.done_on, label(data.step) + (f": {data.detail}" if data.detail else ""),
           StepEvent(step=data.step, detail=data.detail))  # type: ignore[arg-type]
    return row


def checklist_complete(steps: dict[str, ChecklistStep]) -> bool:
    return all(s in steps for s in STEPS)


# --- the dashboard ---------------------------------------------------------------------------------


def dashboard_panel(ctx: Context) -> str | None:
    """The dashboard's panel: starter-pack items at or below their low-stock level (none: no panel)."""
    low = low_stock(ctx)
    if not low:
        return None
    parts = [Markup('<section class="panel" id="release-support-low-stock"><h2>{}</h2><ul>').format(escape(_("Starter-pack stock running low")))]
    for level in low:
        parts.append(Markup('<li data-item="{}">{}</li>').format(
            level.item.id, _("%(item)s: %(n)s %(unit)s left (low at %(low)s)", item=level.item.name, n=level.on_hand, unit=level.item.unit, low=level.item.low_at)))
    parts.append(Markup('</ul><p><a href="/release-support/stock">{}</a></p></section>').format(_("Stock")))
    return str(Markup("").join(parts))


# --- timeline --------------------------------------------------------------------------------------


def _event(ctx: Context, case: Case, kind: str, on: date, summary: str, payload: Any) -> None:
    record_event(ctx, case, kind, on, summary=summary, payload=payload, system=True)


# --- demo data -------------------------------------------------------------------------------------

DEMO_ITEMS = [
    # name, unit, currency, low at, received, unit cost
    ("Soap", "bar", "KHR", 10, 60, "2000"),
    ("Mosquito net", "net", "USD", 5, 20, "4.50"),
    ("Clothes set", "set", "USD", 5, 25, "8.00"),
    ("Rice 5 kg", "bag", "KHR", 8, 9, "18000"),  # low after the demo's releases
    ("Phone SIM card", "card", "USD", 5, 30, "1.00"),
]


def add_demo_support(
    session: Session, organisation: Organisation, cases: list[Case], staff_by_role: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    """Stock bought in the open months of the ledger, the settings, and release-day support with
    checklists for up to six released cases (four checklists complete, one partial), all through
    the services so that the general book passes ``homecoming ledger check`` and ``verify``."""
    fund_id = session.scalar(select(Fund.id).where(Fund.org_id == organisation.id, Fund.code == "Reintegration"))
    if fund_id is None:
        return
    admin_user = staff_by_role["admin"]
    recorder_user = staff_by_role.get("case_manager") or admin_user
    keeper_user = staff_by_role.get("programme_officer") or admin_user
    book = general_book(session, organisation.id)
    closed = session.scalar(select(func.max(ClosedPeriod.through)).where(ClosedPeriod.book_id == book.id))
    start = max(today - timedelta(days=150), (closed + timedelta(days=1)) if closed else date.min)
    if start > today:
        return
    admin = context_for(admin_user, start)
    fund = get_fund(session, organisation.id, "Reintegration")
    record_donor_income(session, fund, start, Decimal("800.00"), "USD", "Assets:Bank:USD", reference="Release support", created_by=admin_user.id)
    save_settings(admin, SettingsIn(
        fund="Reintegration", pay_from_usd="Assets:Cash:USD", pay_from_khr="Assets:Cash:KHR", currency="KHR",
        fare=Decimal("40000"), food_per_day=Decimal("10000"), night_rate=Decimal("20000"),
        ceiling_usd=Decimal("120.00"), ceiling_khr=Decimal("480000"),
    ))
    keeper = context_for(keeper_user, start)
    for name, unit, currency, low_at, received, cost in DEMO_ITEMS:
        item = add_item(keeper, ItemIn(name=name, unit=unit, currency=currency, low_at=low_at))  # type: ignore[arg-type]
        receive(keeper, ReceiptIn(item=item.id, received_on=start, quantity=received, unit_cost=Decimal(cost), supplier="Orussey Market",
                                  paid_from="Assets:Cash:KHR" if currency == "KHR" else "Assets:Bank:USD"))
    by_name = {i.name: i.id for i in items(keeper)}
    released = [c for c in cases if c.actual_release is not None and start < c.actual_release <= today and c.status in RELEASED][:6]
    for n, case in enumerate(released):
        day = case.actual_release
        assert day is not None
        recorder = context_for(recorder_user, day)
        pack = {by_name["Soap"]: 2, by_name["Mosquito net"]: 1, by_name["Clothes set"]: 1, by_name["Rice 5 kg"]: 1}
        if n % 2 == 0:
            pack[by_name["Phone SIM card"]] = 1
        record_support(recorder, case, RecordIn(
            given_on=day, currency="KHR", fare=Decimal(40000 + 10000 * (n % 3)), food_days=2, food_per_day=Decimal("10000"),
            nights=1 if n % 3 == 1 else 0, night_rate=Decimal("20000") if n % 3 == 1 else None, notes="",
        ), pack)
        steps = STEPS if n != 1 else STEPS[:1] + STEPS[2:4]  # the second case's checklist is partial
        for step in steps:
            done_on = day + timedelta(days=1) if step == "reached_home" and day < today else day
            recorder.today = done_on
            tick(recorder, case, StepIn(step=step, done_on=done_on,  # type: ignore[arg-type]
                                        detail={"collected": "Case manager, with the mother", "reached_home": case.person.village or ""}.get(step, "")))
    session.flush()


# --- report indicators (the programme dashboard) ---------------------------------------------------


def supported_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """People supported at release per month from ``first`` to ``last``: each case counted once,
    in the month of its first release-day record that was not reversed. One query."""
    first_given = (
        select(func.min(ReleaseRecord.given_on).label("day"))
        .where(ReleaseRecord.org_id == ctx.org_id, ReleaseRecord.reversal_txn_id.is_(None))
        .group_by(ReleaseRecord.case_id)
        .subquery()
    )
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(first_given.c.day, func.count()).where(first_given.c.day >= first, first_given.c.day <= last).group_by(first_given.c.day)
    ).all())
