"""The family-visits module's rules: the organisation's settings, a case's visit plan, recording a
visit and paying its subsidy through the ledger, the visits made and missed against the plan, the
finance officer's monthly subsidy sheet and the reports.

Every query is limited to ``ctx.org_id``. Services add and flush, and post their journal entry
through ``ledger.api`` in the same session; the route commits once, so a visit and its entry are
written together or not at all (``tests/plugins/family_visits/test_atomic.py``).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from core.plugin_api import (
    ActionRefused,
    Case,
    CaseStatus,
    Context,
    Organisation,
    Person,
    Role,
    User,
    by_month,
    family_of,
    format_date,
    format_money,
    record_event,
    staff,
)
from core.plugin_api import gettext as _
from ledger.api import (
    ClosedPeriod,
    Fund,
    LedgerError,
    balances,
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
    to_minor,
)
from plugins.family_visits.models import PlanMember, Visit, VisitPlan, VisitSettings, VisitVisitor
from plugins.family_visits.schemas import ITEMS, LABELS, PlanEvent, PlanIn, SettingsIn, VisitEvent, VisitIn

NAME = "family_visits"
VIEW = "family_visits.view"
PLAN = "family_visits.plan"
RECORD = "family_visits.record"
FINANCE = "family_visits.finance"
SETTINGS = "family_visits.settings"

PLAN_SET = "family_visits.plan_set"
VISIT_RECORDED = "family_visits.visit_recorded"

EXPENSE = "Expenses:Programme:Family-Visits"
MOBILE_MONEY = "Assets:Mobile-Money:{currency}"
CASH = "Assets:Cash:{currency}"
CURRENCIES = ("USD", "KHR")
APPROVERS = frozenset({Role.admin, Role.programme_officer})
IN_PRISON = (CaseStatus.referred, CaseStatus.pre_release)


def _require(ctx: Context, permission: str) -> None:
    if not ctx.user.can(permission):
        raise ActionRefused(_("Your role does not allow this."))


def money(minor: int | None, currency: str | None) -> Decimal:
    """Minor units to a ``Decimal`` of the currency's precision."""
    return from_minor(minor or 0, currency or "USD")


def _minor(amount: Decimal | None, currency: str) -> int:
    return to_minor(amount, currency) if amount else 0


# --- months ----------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    n = day.year * 12 + day.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def months_between(first: date, second: date) -> int:
    """Whole months from ``first``'s month to ``second``'s month."""
    return (second.year - first.year) * 12 + second.month - first.month


def period_of(plan: VisitPlan, day: date) -> date:
    """The first day of the plan period (one, two or three months from the first month) holding ``day``."""
    n = months_between(plan.starts_on, day) // plan.interval_months
    return add_months(plan.starts_on, n * plan.interval_months)


# --- settings --------------------------------------------------------------------------------------


def settings(ctx: Any) -> VisitSettings:
    """The organisation's settings (a fresh, unsaved row with no fund and no limits when never set)."""
    row = ctx.session.get(VisitSettings, ctx.org_id)
    return row if row is not None else VisitSettings(org_id=ctx.org_id)


def funds(ctx: Context) -> list[Fund]:
    return list(ctx.session.scalars(select(Fund).where(Fund.org_id == ctx.org_id).order_by(Fund.code)))


def save_settings(ctx: Any, data: SettingsIn) -> VisitSettings:
    """Save the fund subsidies are charged to and the per-visit limits (admin)."""
    _require(ctx, SETTINGS)
    if data.fund:
        try:
            get_fund(ctx.session, ctx.org_id, data.fund)
        except LedgerError:
            raise ActionRefused(_("Choose one of the options."), "fund") from None
    row = ctx.session.get(VisitSettings, ctx.org_id)
    if row is None:
        row = VisitSettings(org_id=ctx.org_id)
        ctx.session.add(row)
    row.fund_code = data.fund or None
    row.limit_usd_minor = to_minor(data.limit_usd, "USD") if data.limit_usd is not None else None
    row.limit_khr_minor = to_minor(data.limit_khr, "KHR") if data.limit_khr is not None else None
    row.updated_by_id = ctx.user.id
    ctx.session.flush()
    return row


# --- plans -----------------------------------------------------------------------------------------


def get_plan(ctx: Any, case: Case) -> VisitPlan | None:
    """The case's visit plan, if one is set."""
    return ctx.session.scalar(select(VisitPlan).where(VisitPlan.org_id == ctx.org_id, VisitPlan.case_id == case.id))


def family(ctx: Any, case: Case) -> list[tuple[str, Person]]:
    """``(relation, person)`` of every family member linked to the prisoner (core's family links)."""
    return [(relation.value, person) for relation, person, _link in family_of(ctx, case.person)]


def released_on(case: Case) -> date | None:
    """The day the prisoner left prison, or ``None`` while inside."""
    return case.actual_release


def set_plan(ctx: Any, case: Case, data: PlanIn) -> VisitPlan:
    """Set (or change) the case's visit plan and write ``family_visits.plan_set``.

    :raises ActionRefused: the case is closed or its prisoner released, a member is not linked to
        the prisoner, no subsidy, or the subsidy per visit is above the organisation's limit.
    """
    _require(ctx, PLAN)
    if case.status == CaseStatus.closed:
        raise ActionRefused(_("This case is closed: reopen it before planning visits."))
    if released_on(case) is not None and released_on(case) < ctx.today:  # type: ignore[operator]
        raise ActionRefused(_("The prisoner was released on %(date)s: prison visits are no longer planned.", date=format_date(released_on(case))))
    linked = dict((p.id, relation) for relation, p in family(ctx, case))
    if not linked:
        raise ActionRefused(_("The prisoner has no family members linked: link them on the person's page first."), "members")
    unknown = [m for m in data.members if m not in linked]
    if unknown:
        raise ActionRefused(_("Only family members linked to the prisoner can be on the plan."), "members")
    amounts = {item: _minor(getattr(data, item), data.currency) for item in ITEMS}
    total = sum(amounts.values())
    if total <= 0:
        raise ActionRefused(_("Enter the subsidy of at least one cost item."), "transport")
    limit = settings(ctx).limit_minor(data.currency)
    if limit is not None and total > limit:
        raise ActionRefused(
            _("The subsidy per visit (%(total)s) is above the organisation's limit of %(limit)s.",
              total=format_money(money(total, data.currency), data.currency), limit=format_money(money(limit, data.currency), data.currency)),
            "transport",
        )
    plan = get_plan(ctx, case)
    if plan is None:
        plan = VisitPlan(org_id=ctx.org_id, case_id=case.id)
        ctx.session.add(plan)
    elif plan.starts_on != data.starts_on and ctx.session.scalar(select(Visit.id).where(Visit.org_id == ctx.org_id, Visit.plan_id == plan.id).limit(1)):
        raise ActionRefused(_("Visits are recorded under this plan: its first month cannot change."), "starts_on")
    plan.village, plan.prison, plan.interval_months, plan.starts_on = data.village, data.prison, data.interval_months, data.starts_on
    plan.currency = data.currency
    plan.transport_minor, plan.food_minor, plan.accommodation_minor = amounts["transport"], amounts["food"], amounts["accommodation"]
    plan.set_by_id, plan.set_on = ctx.user.id, ctx.today
    keep = {m.person_id: m for m in plan.members}
    plan.members = [keep.get(pid) or PlanMember(org_id=ctx.org_id, person_id=pid, relation=linked[pid]) for pid in dict.fromkeys(data.members)]
    ctx.session.flush()
    payload = PlanEvent(plan_id=plan.id, prison=plan.prison, interval_months=plan.interval_months,
                        subsidy=str(money(total, plan.currency)), currency=data.currency, members=len(plan.members))  # type: ignore[arg-type]
    _event(ctx, case, PLAN_SET, ctx.today, f"{plan.village} → {plan.prison}", payload)
    return plan


# --- visits ----------------------------------------------------------------------------------------


def visits_of(ctx: Any, plan: VisitPlan) -> list[Visit]:
    return list(ctx.session.scalars(
        select(Visit).where(Visit.org_id == ctx.org_id, Visit.plan_id == plan.id).order_by(Visit.visited_on, Visit.id)
    ))


def approvers(ctx: Any) -> list[User]:
    """Staff who may approve a subsidy above the limit: the organisation's admins and programme officers."""
    return [user for user, role in staff(ctx) if role in APPROVERS]


PAYMENT_FIELDS = {"date": "visited_on", "amount": "transport", "currency": "currency", "postings": "__all__", "meta": "__all__"}


def _refusal(exc: LedgerError) -> ActionRefused:
    return ActionRefused(exc.message, PAYMENT_FIELDS.get(exc.field or "", "__all__"))


def record_visit(ctx: Any, case: Case, data: VisitIn) -> Visit:
    """Record a visit and, unless ``payment`` is ``none``, pay its subsidy: Dr
    ``Expenses:Programme:Family-Visits``, Cr ``Assets:Cash:<CUR>`` or ``Assets:Mobile-Money:<CUR>``,
    charged to the fund of the module's settings. Writes ``family_visits.visit_recorded``.

    :raises ActionRefused: no plan; the date is in the future, before the plan or after release;
        a visitor not linked to the prisoner or not on the plan; a second subsidy in one plan
        period; mobile money without a reference; above the limit without an approver who is an
        admin or programme officer; no fund chosen or the fund lacks the money; no cash account.
    """
    _require(ctx, RECORD)
    plan = get_plan(ctx, case)
    if plan is None:
        raise ActionRefused(_("This case has no visit plan: set one up first."))
    day = data.visited_on
    released = released_on(case)
    if released is not None and day > released:
        raise ActionRefused(_("The prisoner was released on %(date)s: a prison visit after release cannot be recorded.", date=format_date(released)), "visited_on")
    if case.status == CaseStatus.closed and case.closed_on is not None and day > case.closed_on:
        raise ActionRefused(_("The case was closed on %(date)s: a visit after that cannot be recorded.", date=format_date(case.closed_on)), "visited_on")
    if day > ctx.today:
        raise ActionRefused(_("The date cannot be in the future."), "visited_on")
    if day < plan.starts_on:
        raise ActionRefused(_("The plan starts in %(month)s: record visits from then on.", month=format_date(plan.starts_on, "MMMM y")), "visited_on")
    linked = {p.id: p for _r, p in family(ctx, case)}
    on_plan = {m.person_id for m in plan.members}
    for person_id in data.visitors:
        if person_id not in linked:
            raise ActionRefused(_("This person is not a family member linked to the prisoner: only linked family members can be subsidised."), "visitors")
        if person_id not in on_plan:
            raise ActionRefused(_("%(name)s is not on the visit plan: add them to the plan first.", name=linked[person_id].name), "visitors")
    visit = Visit(
        org_id=ctx.org_id, plan_id=plan.id, case_id=case.id, visited_on=day, duration_minutes=data.duration_minutes, notes=data.notes,
        prison=plan.prison, payment=data.payment, recorded_by_id=ctx.user.id,
    )
    visit.visitors = [VisitVisitor(org_id=ctx.org_id, person_id=pid) for pid in dict.fromkeys(data.visitors)]
    if data.payment == "none":
        ctx.session.add(visit)
        ctx.session.flush()
        _event(ctx, case, VISIT_RECORDED, day, _visit_summary(ctx, visit), VisitEvent(visit_id=visit.id, visitors=len(visit.visitors), payment="none"))
        return visit
    _pay(ctx, case, plan, visit, data)
    return visit


def _pay(ctx: Any, case: Case, plan: VisitPlan, visit: Visit, data: VisitIn) -> None:
    currency = data.currency or plan.currency
    amounts = {item: _minor(getattr(data, item), currency) for item in ITEMS}
    total = sum(amounts.values())
    if total <= 0:
        raise ActionRefused(_("Enter the subsidy paid, or choose “No subsidy”."), "transport")
    period = period_of(plan, visit.visited_on)
    earlier = ctx.session.scalar(select(Visit).where(Visit.org_id == ctx.org_id, Visit.plan_id == plan.id, Visit.period == period))
    if earlier is not None:
        raise ActionRefused(
            _("A subsidy for this period was already paid on %(date)s: the plan allows one subsidised visit per period. "
              "Record this visit with “No subsidy”.", date=format_date(earlier.visited_on)),
            "payment",
        )
    if data.payment == "mobile_money" and not data.reference:
        raise ActionRefused(_("Enter the mobile money transaction reference."), "reference")
    if data.paid_to is not None and data.paid_to not in {v.person_id for v in visit.visitors}:
        raise ActionRefused(_("The subsidy is paid to one of the visitors."), "paid_to")
    setting = settings(ctx)
    limit = setting.limit_minor(currency)
    approver: User | None = None
    if data.approved_by is not None:
        approver = next((u for u in approvers(ctx) if u.id == data.approved_by), None)
        if approver is None:
            raise ActionRefused(_("The approval must come from an administrator or programme officer of the organisation."), "approved_by")
    if limit is not None and total > limit and approver is None:
        raise ActionRefused(
            _("%(total)s is above the organisation's limit of %(limit)s per visit: a manager (administrator or programme officer) must approve it.",
              total=format_money(money(total, currency), currency), limit=format_money(money(limit, currency), currency)),
            "approved_by",
        )
    if not setting.fund_code:
        raise ActionRefused(_("No fund is chosen for visit subsidies: an administrator chooses it in the module's settings."), "payment")
    book = general_book(ctx.session, ctx.org_id)
    if data.payment == "cash":
        account = CASH.format(currency=currency)
        if find_account(ctx.session, book, account) is None:
            raise ActionRefused(_("The general book has no account %(account)s: ask finance to open it in the chart of accounts.", account=account), "payment")
    else:
        account = MOBILE_MONEY.format(currency=currency)
        ensure_account(ctx.session, book, account, (currency,))
    ensure_account(ctx.session, book, EXPENSE, CURRENCIES)
    try:
        fund = get_fund(ctx.session, ctx.org_id, setting.fund_code)
        require_available(ctx.session, fund, money(total, currency), currency, visit.visited_on)
    except LedgerError as exc:
        raise _refusal(exc) from None
    visit.period, visit.currency = period, currency
    visit.transport_minor, visit.food_minor, visit.accommodation_minor = amounts["transport"], amounts["food"], amounts["accommodation"]
    visit.reference, visit.fund_code = data.reference, fund.code
    visit.paid_to_id = data.paid_to if data.paid_to is not None else visit.visitors[0].person_id
    if approver is not None:
        visit.approved_by_id, visit.approval_note = approver.id, data.approval_note
    ctx.session.add(visit)
    try:
        ctx.session.flush()
    except IntegrityError:  # another user paid this period's subsidy at the same moment
        raise ActionRefused(_("A subsidy for this period was just paid by someone else: reload the page."), "payment") from None
    meta: dict[str, Any] = {"plugin": NAME, "case_id": case.id, "fund": fund.code, "visit_id": visit.id}
    if visit.reference:
        meta["reference"] = visit.reference
    if approver is not None:
        meta["approved_by"] = approver.name
    text = f"Family visit subsidy: case {case.id} at {plan.prison}"
    try:
        txn = post(ctx.session, book, visit.visited_on, text, [
            debit(EXPENSE, money(total, currency), currency),
            credit(account, money(total, currency), currency),
        ], meta=meta, links=[f"visit-{visit.id}"], created_by=ctx.user.id)
    except LedgerError as exc:
        raise _refusal(exc) from None
    visit.txn_id = txn.id
    ctx.session.flush()
    payload = VisitEvent(visit_id=visit.id, visitors=len(visit.visitors), payment=visit.payment,  # type: ignore[arg-type]
                         subsidy=str(money(total, currency)), currency=currency, reference=visit.reference,  # type: ignore[arg-type]
                         approved_by_id=visit.approved_by_id)
    _event(ctx, case, VISIT_RECORDED, visit.visited_on, _visit_summary(ctx, visit), payload)


def _visit_summary(ctx: Any, visit: Visit) -> str:
    names = person_names(ctx, {v.person_id for v in visit.visitors})
    return ", ".join(names.get(v.person_id, "?") for v in visit.visitors)[:200]


def person_names(ctx: Any, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(Person.id, Person.name).where(Person.org_id == ctx.org_id, Person.id.in_(ids))).all())


def persons_by_id(ctx: Any, ids: set[int | None]) -> dict[int, Person]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {p.id: p for p in ctx.session.scalars(select(Person).where(Person.org_id == ctx.org_id, Person.id.in_(ids)))}


def user_names(ctx: Any, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


# --- made and missed -------------------------------------------------------------------------------


@dataclass
class Period:
    """One period of a plan (a month for a monthly plan) and the visits in it."""

    start: date
    end: date
    visits: list[Visit] = field(default_factory=list)
    state: str = "missed"  # made, missed, due

    @property
    def subsidised(self) -> Visit | None:
        return next((v for v in self.visits if v.payment != "none"), None)


def schedule(ctx: Any, case: Case, plan: VisitPlan, visits: list[Visit] | None = None) -> list[Period]:
    """The plan's periods from its first month to this month (or the month of release), newest
    first, each ``made`` (a visit in it), ``due`` (the current period, no visit yet) or ``missed``."""
    visits = visits_of(ctx, plan) if visits is None else visits
    last = min(ctx.today, released_on(case) or ctx.today)
    if case.status == CaseStatus.closed and case.closed_on:
        last = min(last, case.closed_on)
    periods: list[Period] = []
    start = plan.starts_on
    while start <= last:
        end = add_months(start, plan.interval_months) - timedelta(days=1)
        inside = [v for v in visits if start <= v.visited_on <= end]
        state = "made" if inside else ("due" if end >= ctx.today and last == ctx.today else "missed")
        periods.append(Period(start, end, inside, state))
        start = add_months(start, plan.interval_months)
    return list(reversed(periods))


@dataclass(frozen=True)
class Waiting:
    """A family not visited in the current period of its plan (the dashboard's list)."""

    case: Case
    plan: VisitPlan
    last_visit: date | None


def not_visited(ctx: Any, limit: int | None = 20) -> tuple[list[Waiting], int]:
    """Plans of prisoners still inside with no visit in the current period, longest waiting
    first; the first ``limit`` (None: all) and how many in all."""
    plans = ctx.session.execute(
        select(VisitPlan, Case).join(Case, Case.id == VisitPlan.case_id)
        .where(VisitPlan.org_id == ctx.org_id, Case.org_id == ctx.org_id, Case.actual_release.is_(None),
               Case.status != CaseStatus.closed, VisitPlan.starts_on <= ctx.today)
        .options(lazyload(VisitPlan.members))  # not shown: no query per 500 plans
    ).all()
    if not plans:
        return [], 0
    last = dict(ctx.session.execute(
        select(Visit.plan_id, func.max(Visit.visited_on)).where(Visit.org_id == ctx.org_id, Visit.plan_id.in_([p.id for p, _c in plans]))
        .group_by(Visit.plan_id)
    ).all())
    waiting = [Waiting(case, plan, last.get(plan.id)) for plan, case in plans
               if last.get(plan.id) is None or last[plan.id] < period_of(plan, ctx.today)]
    waiting.sort(key=lambda w: (w.last_visit or date.min, w.case.id))
    return (waiting if limit is None else waiting[:limit]), len(waiting)


def dashboard_panel(ctx: Context) -> str | None:
    """The dashboard's panel: families not visited in this period of their plan."""
    rows, total = not_visited(ctx)
    title = escape(_("Families not visited this month"))
    parts = [Markup('<section class="panel" id="family-visits-due"><h2>{}</h2>').format(title)]
    if not rows:
        parts.append(Markup('<p class="empty">{}</p>').format(_("Every family with a visit plan has visited this month.")))
    else:
        parts.append(Markup('<table class="list"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>').format(
            _("Prisoner"), _("Prison"), _("Last visit")))
        for row in rows:
            last = format_date(row.last_visit) if row.last_visit else _("never")
            parts.append(Markup('<tr data-case="{}"><td><a href="/family-visits/cases/{}">{}</a></td><td>{}</td><td>{}</td></tr>').format(
                row.case.id, row.case.id, row.case.person.name, row.plan.prison, last))
        parts.append(Markup("</tbody></table>"))
        if total > len(rows):
            parts.append(Markup('<p><a href="/family-visits?due=1">{}</a></p>').format(_("All %(n)s families not visited yet", n=total)))
    parts.append(Markup("</section>"))
    return str(Markup("").join(parts))


@dataclass(frozen=True)
class PlanRow:
    """A plan in the module's list, with the state of its current period."""

    case: Case
    plan: VisitPlan
    last_visit: date | None
    visited_this_period: bool


PER_PAGE = 50


def plan_list(ctx: Context, due_only: bool = False, page: int = 1) -> tuple[list[PlanRow], bool]:
    """One page of the organisation's plans with their last visit, and whether more follow:
    prisoners still inside first, then by name; ``due_only``: only prisoners still inside whose
    family has not visited in the current period of the plan. A fixed number of queries whatever
    the number of plans (bench/README.md, issue 11)."""
    inside = (Case.actual_release.is_(None)) & (Case.status != CaseStatus.closed)
    query = (
        select(VisitPlan, Case).join(Case, Case.id == VisitPlan.case_id).join(Person, Person.id == Case.person_id)
        .where(VisitPlan.org_id == ctx.org_id, Case.org_id == ctx.org_id)
        .options(lazyload(VisitPlan.members))  # the list does not show them
        .order_by(sql_case((inside, 0), else_=1), Person.name, Case.id)
    )
    page = max(1, page)
    if due_only:
        # The due ones are found among the plans of prisoners still inside (the period depends on
        # each plan), then paged here.
        waiting, _total = not_visited(ctx, limit=None)
        rows = [PlanRow(w.case, w.plan, w.last_visit, False) for w in waiting]
        rows.sort(key=lambda r: (r.case.person.name, r.case.id))
        chunk = rows[(page - 1) * PER_PAGE:page * PER_PAGE + 1]
    else:
        found = ctx.session.execute(query.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)).all()
        last = dict(ctx.session.execute(
            select(Visit.plan_id, func.max(Visit.visited_on))
            .where(Visit.org_id == ctx.org_id, Visit.plan_id.in_([p.id for p, _c in found])).group_by(Visit.plan_id)
        ).all()) if found else {}
        chunk = []
        for plan, case_ in found:
            seen = last.get(plan.id)
            chunk.append(PlanRow(case_, plan, seen, seen is not None and seen >= period_of(plan, ctx.today)))
    return chunk[:PER_PAGE], len(chunk) > PER_PAGE


# --- the monthly subsidy sheet ---------------------------------------------------------------------


@dataclass
class Sheet:
    """The subsidies paid in a month (optionally at one prison), and their totals per currency."""

    month: date
    prison: str
    visits: list[Visit]
    cases: dict[int, Case]
    persons: dict[int, Person]
    recorders: dict[int, str]
    approvers: dict[int, str]

    @property
    def totals(self) -> dict[str, Decimal]:
        out: dict[str, int] = defaultdict(int)
        for v in self.visits:
            out[v.currency or "USD"] += v.subsidy_minor
        return {c: money(out[c], c) for c in sorted(out)}

    def by_prison(self) -> list[tuple[str, list[Visit], dict[str, Decimal]]]:
        groups: dict[str, list[Visit]] = defaultdict(list)
        for v in self.visits:
            groups[v.prison].append(v)
        out = []
        for prison in sorted(groups):
            sums: dict[str, int] = defaultdict(int)
            for v in groups[prison]:
                sums[v.currency or "USD"] += v.subsidy_minor
            out.append((prison, groups[prison], {c: money(sums[c], c) for c in sorted(sums)}))
        return out


def sheet(ctx: Context, month: date, prison: str = "") -> Sheet:
    """The month's paid subsidies (by date), at ``prison`` or at every prison."""
    query = select(Visit).where(
        Visit.org_id == ctx.org_id, Visit.payment != "none", Visit.visited_on >= month, Visit.visited_on <= month_end(month),
    )
    if prison:
        query = query.where(Visit.prison == prison)
    visits = list(ctx.session.scalars(query.order_by(Visit.prison, Visit.visited_on, Visit.id)))
    cases = {c.id: c for c in ctx.session.scalars(select(Case).where(Case.org_id == ctx.org_id, Case.id.in_({v.case_id for v in visits})))} if visits else {}
    people = persons_by_id(ctx, {v.paid_to_id for v in visits} | {w.person_id for v in visits for w in v.visitors})
    return Sheet(month, prison, visits, cases, people, user_names(ctx, {v.recorded_by_id for v in visits}), user_names(ctx, {v.approved_by_id for v in visits}))


def sheet_prisons(ctx: Context, month: date) -> list[str]:
    """The prisons where subsidies were paid in the month."""
    return list(ctx.session.scalars(
        select(Visit.prison).where(Visit.org_id == ctx.org_id, Visit.payment != "none", Visit.visited_on >= month,
                                   Visit.visited_on <= month_end(month)).distinct().order_by(Visit.prison)
    ))


def ledger_month(ctx: Context, month: date) -> dict[str, Decimal]:
    """What the general book's ``Expenses:Programme:Family-Visits`` took in the month, per currency
    (the balance at the month's end less the balance before it)."""
    book = general_book(ctx.session, ctx.org_id)
    after = balances(ctx.session, book, month_end(month))
    before = balances(ctx.session, book, month - timedelta(days=1))
    out = {}
    for currency in CURRENCIES:
        minor = after.get((EXPENSE, currency), 0) - before.get((EXPENSE, currency), 0)
        if minor:
            out[currency] = money(minor, currency)
    return out


def sheet_table(ctx: Context, data: Sheet) -> tuple[list[str], list[list[Any]]]:
    """The sheet as a header and rows, shared by the Excel export; amounts are ``Decimal``."""
    header = [_("Date"), _("Prison"), _("Prisoner"), _("Prisoner number"), _("Paid to"), _("Visitors"), _("Payment method"), _("Reference"),
              _("Transport"), _("Food"), _("Accommodation"), _("Total"), _("Currency"), _("Approved by"), _("Recorded by")]
    rows = []
    for v in data.visits:
        case = data.cases[v.case_id]
        paid_to = data.persons.get(v.paid_to_id or 0)
        rows.append([
            v.visited_on, v.prison, case.person.name, case.prisoner_number or "",
            paid_to.name if paid_to else "", ", ".join(data.persons[w.person_id].name for w in v.visitors if w.person_id in data.persons),
            _(payment_label(v.payment)), v.reference, money(v.transport_minor, v.currency), money(v.food_minor, v.currency),
            money(v.accommodation_minor, v.currency), money(v.subsidy_minor, v.currency), v.currency,
            data.approvers.get(v.approved_by_id or 0, ""), data.recorders.get(v.recorded_by_id or 0, ""),
        ])
    return header, rows


def payment_label(value: str) -> str:
    """The English label (a gettext message id) of a payment method."""
    return LABELS.get(value, value)


# --- reports ---------------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    """The figures of one month: visits, prisoners with a plan still inside and how many of
    them were visited, subsidies paid per currency."""

    month: date
    visits: int = 0
    subsidised: int = 0
    prisoners: int = 0
    visited: int = 0
    paid: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> int | None:
        """Per cent of the prisoners with a plan, still inside, who were visited (whole number)."""
        return round(100 * self.visited / self.prisoners) if self.prisoners else None

    def average(self, currency: str) -> Decimal | None:
        """Average subsidy per subsidised visit paid in ``currency``."""
        n = self.count.get(currency, 0)
        return (money(self.paid[currency], currency) / n).quantize(money(1, currency)) if n else None

    def cost_per_visit(self, currency: str) -> Decimal | None:
        """Subsidies in ``currency`` divided by every visit of the month (subsidised or not)."""
        return (money(self.paid.get(currency, 0), currency) / self.visits).quantize(money(1, currency)) if self.visits and currency in self.paid else None

    count: dict[str, int] = field(default_factory=dict)


def report(ctx: Context, months: int = 12) -> list[MonthFigures]:
    """The last ``months`` months, newest first."""
    first = add_months(ctx.today, -(months - 1))
    rows = ctx.session.execute(
        select(Visit.plan_id, Visit.case_id, Visit.visited_on, Visit.payment, Visit.currency,
               Visit.transport_minor + Visit.food_minor + Visit.accommodation_minor)
        .where(Visit.org_id == ctx.org_id, Visit.visited_on >= first, Visit.visited_on <= ctx.today)
    ).all()
    plans = ctx.session.execute(
        select(VisitPlan.case_id, VisitPlan.starts_on, Case.actual_release, Case.status, Case.closed_on)
        .join(Case, Case.id == VisitPlan.case_id).where(VisitPlan.org_id == ctx.org_id, Case.org_id == ctx.org_id)
    ).all()
    figures = {add_months(first, n): MonthFigures(add_months(first, n)) for n in range(months)}
    visited: dict[date, set[int]] = defaultdict(set)
    for _plan, case_id, day, payment, currency, amount in rows:
        f = figures[day.replace(day=1)]
        f.visits += 1
        visited[f.month].add(case_id)
        if payment != "none" and currency:
            f.subsidised += 1
            f.paid[currency] = f.paid.get(currency, 0) + int(amount)
            f.count[currency] = f.count.get(currency, 0) + 1
    for month, f in figures.items():
        inside = {
            case_id for case_id, starts, released, status, closed in plans
            if starts <= month and (released is None or released >= month) and not (status == CaseStatus.closed and closed and closed < month)
        }
        f.prisoners = len(inside)
        f.visited = len(inside & visited[month])
    return [figures[m] for m in sorted(figures, reverse=True)]


def report_table(ctx: Context) -> tuple[list[str], list[list[Any]]]:
    """The monthly figures as a header and rows (CSV and Excel); amounts are ``Decimal`` or blank."""
    header = [_("Month"), _("Visits"), _("Subsidised visits"), _("Prisoners with a plan"), _("Prisoners visited"), _("Share visited, per cent")]
    for currency in CURRENCIES:
        header += [_("Subsidies (%(currency)s)", currency=currency), _("Average subsidy (%(currency)s)", currency=currency),
                   _("Cost per visit (%(currency)s)", currency=currency)]
    out = []
    for f in report(ctx):
        row: list[Any] = [f.month.strftime("%Y-%m"), f.visits, f.subsidised, f.prisoners, f.visited, "" if f.share is None else f.share]
        for currency in CURRENCIES:
            row += [money(f.paid.get(currency, 0), currency), f.average(currency) or "", f.cost_per_visit(currency) or ""]
        out.append(row)
    return header, out


# --- timeline --------------------------------------------------------------------------------------


def _event(ctx: Context, case: Case, kind: str, on: date, summary: str, payload: Any) -> None:
    record_event(ctx, case, kind, on, summary=summary, payload=payload, system=True)


# --- demo data -------------------------------------------------------------------------------------


def add_demo_visits(
    session: Session, organisation: Organisation, cases: list[Case], staff_by_role: dict[str, User], today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    """A year of visit plans, visits and subsidies for the organisation's prisoners (through the
    services, so the general book passes ``homecoming ledger check`` and ``verify``): riel in cash
    at the prison and dollars by mobile money, a few missed months, a few second visits without a
    subsidy and one payment above the limit with an approval."""
    fund_id = session.scalar(select(Fund.id).where(Fund.org_id == organisation.id, Fund.code == "Reintegration"))
    if fund_id is None:
        return
    rng = random.Random(organisation.id * 7919)
    planner = context_for(staff_by_role.get("case_manager") or staff_by_role["admin"], today)
    recorder = context_for(staff_by_role.get("case_manager") or staff_by_role["admin"], today)
    admin = context_for(staff_by_role["admin"], today)
    manager = staff_by_role.get("programme_officer") or staff_by_role.get("admin")
    book = general_book(session, organisation.id)
    closed = session.scalar(select(func.max(ClosedPeriod.through)).where(ClosedPeriod.book_id == book.id))
    start = max(add_months(today, -11), add_months(closed, 1) if closed else date.min)
    if start > today:
        return
    fund = get_fund(session, organisation.id, "Reintegration")
    record_donor_income(session, fund, start, Decimal("2500.00"), "USD", "Assets:Bank:USD", reference="Family visit subsidies",
                        created_by=admin.user.id)
    save_settings(admin, SettingsIn(fund="Reintegration", limit_usd=Decimal("15.00"), limit_khr=Decimal("60000")))
    inside = [c for c in cases if c.status in IN_PRISON][:8]
    released = [c for c in cases if c.actual_release is not None and start < c.actual_release <= today and c.status != CaseStatus.closed][:3]
    approved_once = False
    for n, case in enumerate(inside + released):
        relatives = family(planner, case)
        if not relatives:
            continue
        dollars = n % 3 == 2
        currency = "USD" if dollars else "KHR"
        planner.today = start
        plan = set_plan(planner, case, PlanIn(
            members=[p.id for _r, p in relatives], village=case.person.village or "Phum 1", prison=case.prison or "Prey Sar",
            interval_months=1, starts_on=start, currency=currency,
            transport=Decimal("8.00") if dollars else Decimal("30000"), food=Decimal("3.00") if dollars else Decimal("10000"),
            accommodation=None,
        ))
        month = start
        last = min(today, case.actual_release or today)
        while month <= last:
            if rng.random() < 0.15:  # a missed month
                month = add_months(month, 1)
                continue
            day = min(month.replace(day=rng.randint(3, 26)), last)
            if day < month:
                break
            recorder.today = day
            visitors = [p.id for _r, p in relatives[: rng.randint(1, len(relatives))]]
            extra = not approved_once and n == 1 and month > start
            pay = VisitIn(
                visited_on=day, visitors=visitors, duration_minutes=rng.choice([30, 45, 60, 90]),
                notes=rng.choice(["The family brought food; he asked about his children.", "A good visit; the mother cried with joy.",
                                  "Short visit: the prison shortened visiting hours.", "They talked about the release plan and work at home."]),
                payment="mobile_money" if dollars else "cash", currency=currency,
                transport=money(plan.transport_minor, currency), food=money(plan.food_minor, currency),
                accommodation=Decimal("25000") if extra else None,
                reference=f"WING-{organisation.id}{case.id:04d}{month:%y%m}" if dollars else "",
                approved_by=manager.id if extra and manager else None,
                approval_note="Overnight stay: the bus back left before visiting hours ended." if extra else "",
            )
            record_visit(recorder, case, pay)
            approved_once = approved_once or extra
            if rng.random() < 0.1 and day.day < 25 and day + timedelta(days=2) <= last:  # a second visit, not subsidised
                recorder.today = day + timedelta(days=2)
                record_visit(recorder, case, VisitIn(visited_on=day + timedelta(days=2), visitors=visitors[:1], duration_minutes=30,
                                                     notes="Came again with medicine.", payment="none"))
            month = add_months(month, 1)
    session.flush()


# --- report indicators (the programme dashboard) ---------------------------------------------------


def subsidised_by_month(ctx: Context, first: date, last: date) -> dict[date, int]:
    """Visits whose subsidy was paid, per month from ``first`` to ``last``, by the day of the
    visit. One query."""
    return by_month(ctx.session.execute(  # type: ignore[return-value]
        select(Visit.visited_on, func.count())
        .where(Visit.org_id == ctx.org_id, Visit.payment != "none", Visit.visited_on >= first, Visit.visited_on <= last)
        .group_by(Visit.visited_on)
    ).all())
