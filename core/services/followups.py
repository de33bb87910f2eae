"""The follow-up schedule: when each released person's next visit is due, derived from the release
date and the visits recorded, under the organisation's policy (docs/follow_up.md).

The rule is "a visit at least every <interval> after release": the next visit is due one interval
after the latest visit made on or after release (or after release when there was none). A visit
made early moves the next due date earlier; a late one moves it later; visits dated before release
(a data-entry slip) do not count. An interval in months keeps the day of the month, or the
month's last day when it is shorter (31 January + 1 month = 28 or 29 February). Follow-up ends
``duration_months`` calendar months after release: no visit falls due after that day.

The first part of this module is pure (no database). Below it, the database-reading part: the
visits due and overdue in an organisation (the dashboard, the follow-ups page and the calendar
feed read them), what escalates to whom, the follow-up policy form and the calendar feeds.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import ScalarSelect, String, and_, exists, func, not_, or_, select, type_coerce, update
from sqlalchemy.orm import Session, aliased

from core.context import Context
from core.db import as_date
from core.errors import InvalidInput
from core.i18n import gettext as _
from core.models import CalendarFeed, Case, CaseStatus, Event, Membership, Organisation, Person, Role, User, utcnow
from core.schemas import FollowUpPolicyIn
from core.services.outcomes import add_months

Unit = Literal["days", "months"]
UNITS: tuple[Unit, ...] = ("days", "months")


@dataclass(frozen=True)
class Policy:
    """An organisation's follow-up policy."""

    interval: int
    unit: Unit
    duration_months: int
    escalate_days: int

    @classmethod
    def of(cls, organisation: Organisation) -> Policy:
        unit: Unit = "months" if organisation.follow_up_interval_unit == "months" else "days"
        return cls(
            organisation.follow_up_interval,
            unit,
            organisation.follow_up_duration_months,
            organisation.follow_up_escalate_days,
        )

    def after(self, day: date) -> date:
        """The day one interval after ``day``."""
        if self.unit == "months":
            return add_months(day, self.interval)
        return day + timedelta(days=self.interval)

    def ends_on(self, release: date) -> date:
        """The last day of follow-up for someone released on ``release``."""
        return add_months(release, self.duration_months)

    @property
    def shortest_interval_days(self) -> int:
        """The fewest days one interval can span (28 a month): a bound for database filters."""
        return self.interval * 28 if self.unit == "months" else self.interval


@dataclass(frozen=True)
class DueVisit:
    """One visit that fell (or falls) due, and the visit that met it."""

    due_on: date
    visited_on: date | None
    """The first visit after the previous one (or release); ``None`` when none was made yet."""

    def on_time(self) -> bool:
        return self.visited_on is not None and self.visited_on <= self.due_on


def counted_visits(release: date, visits: Iterable[date]) -> list[date]:
    """The visits that count for the schedule, in order: those on or after release."""
    return sorted(v for v in visits if v >= release)


def next_due(policy: Policy, release: date, visits: Iterable[date]) -> date | None:
    """The day the next visit is due, or ``None`` when follow-up ends before it."""
    counted = counted_visits(release, visits)
    due = policy.after(counted[-1] if counted else release)
    return due if due <= policy.ends_on(release) else None


def due_visits(policy: Policy, release: date, visits: Iterable[date]) -> list[DueVisit]:
    """Every visit that fell due since release (within the follow-up period), oldest first, each
    with the visit that met it; the last one may not be met yet (``visited_on`` is ``None``).

    "Visits on time" is the share of past due dates met by a visit on or before them.
    """
    end = policy.ends_on(release)
    result = []
    basis = release
    for visit in counted_visits(release, visits):
        due = policy.after(basis)
        if due > end:
            return result
        result.append(DueVisit(due, visit))
        basis = visit
    due = policy.after(basis)
    if due <= end:
        result.append(DueVisit(due, None))
    return result


def overdue_days(due_on: date, today: date) -> int:
    """Days past the due date (0 when not yet due)."""
    return max(0, (today - due_on).days)


# --- in the database -------------------------------------------------------------------------------

VISIT_KIND = "core.follow_up_visit"
DUE_WINDOW_DAYS = 7
"""A visit due within this many days is "due this week"."""
OPEN_RELEASED = (CaseStatus.released, CaseStatus.follow_up)

INTERVAL_RANGE = {"days": (1, 366), "months": (1, 24)}
DURATION_RANGE = (1, 120)
ESCALATE_RANGE = (1, 365)


@dataclass(frozen=True)
class Due:
    """A released case whose next visit is due this week or overdue."""

    case_id: int
    person_name: str
    person_name_km: str | None
    case_manager_id: int | None
    case_manager_name: str | None
    supervisor_id: int | None
    """Who the case escalates to: the case manager's supervisor while on the staff, else ``None``
    (the organisation's administrators)."""
    released_on: date
    basis: date
    """The last counted visit, or the release date when there was none."""
    due_on: date
    overdue_days: int
    escalated: bool

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def _last_visit() -> ScalarSelect[date]:
    """The case's latest follow-up visit that counts (on or after release, not corrected by a
    later event), correlated with ``Case`` in the outer query; ``NULL`` when there is none."""
    visit = aliased(Event)
    correction = aliased(Event)
    return (
        select(func.max(visit.occurred_on))
        .where(
            visit.case_id == Case.id,
            visit.kind == VISIT_KIND,
            visit.occurred_on >= Case.actual_release,
            # Superseded by a correction (a note that it was recorded in error, or a new visit
            # with the right date): the correction is what counts.
            not_(exists().where(correction.case_id == visit.case_id, correction.corrects_id == visit.id)),
        )
        .correlate(Case)
        .scalar_subquery()
    )


def due_and_overdue(
    ctx: Context,
    case_manager_id: int | None = None,
    *,
    escalated_to: int | None = None,
    within_days: int = DUE_WINDOW_DAYS,
) -> list[Due]:
    """Open released cases of the organisation whose next visit is due within ``within_days``
    days or overdue, most overdue first.

    :param case_manager_id: only this case manager's cases.
    :param escalated_to: only escalated cases (overdue beyond the policy's threshold) that escalate
        to this staff member: those of the case managers they supervise, and, when they are an
        administrator, those of case managers with no supervisor on the staff (or no case manager).

    One query: the database keeps the cases whose next visit *may* fall due (a bound from the
    shortest interval and the longest months), then the schedule rules decide exactly.
    """
    policy = Policy.of(ctx.organisation)
    today = ctx.today
    horizon = today + timedelta(days=within_days)
    basis = func.coalesce(_last_visit(), Case.actual_release)
    manager = aliased(Membership)
    supervisor = aliased(Membership)
    query = (
        select(
            Case.id,
            Person.name,
            Person.name_km,
            Case.case_manager_id,
            User.name,
            supervisor.user_id,
            type_coerce(Case.actual_release, String),
            type_coerce(basis, String),
        )
        .join(Person, Person.id == Case.person_id)
        .outerjoin(User, User.id == Case.case_manager_id)
        .outerjoin(manager, and_(manager.user_id == Case.case_manager_id, manager.org_id == Case.org_id))
        # A supervisor who has left the organisation is no one's supervisor here any more.
        .outerjoin(supervisor, and_(supervisor.user_id == manager.supervisor_id, supervisor.org_id == Case.org_id))
        .where(
            Case.org_id == ctx.org_id,
            Case.status.in_(OPEN_RELEASED),
            Case.actual_release.is_not(None),
            Case.actual_release <= today,
            # Follow-up not over: no month is longer than 31 days.
            Case.actual_release >= today - timedelta(days=31 * policy.duration_months),
            # Due within the window: no interval is shorter than this.
            basis <= horizon - timedelta(days=policy.shortest_interval_days),
        )
    )
    if case_manager_id is not None:
        query = query.where(Case.case_manager_id == case_manager_id)
    if escalated_to is not None:
        is_admin = ctx.session.scalar(
            select(Membership.role).where(Membership.user_id == escalated_to, Membership.org_id == ctx.org_id)
        ) == Role.admin
        mine = supervisor.user_id == escalated_to
        query = query.where(or_(mine, supervisor.user_id.is_(None)) if is_admin else mine)
    result = []
    for case_id, name, name_km, manager_id, manager_name, supervisor_id, released, basis_on in ctx.session.execute(query):
        released_on, basis_day = as_date(released), as_date(basis_on)
        due = next_due(policy, released_on, [basis_day])
        if due is None or due > horizon or policy.ends_on(released_on) < today:
            continue
        late = overdue_days(due, today)
        row = Due(case_id, name, name_km, manager_id, manager_name, supervisor_id, released_on, basis_day, due, late, late > policy.escalate_days)
        if escalated_to is None or row.escalated:
            result.append(row)
    result.sort(key=lambda r: (r.due_on, r.case_id))
    return result


def escalated_to_me(ctx: Context) -> list[Due]:
    """Escalated cases for the signed-in staff member (see :func:`due_and_overdue`)."""
    return due_and_overdue(ctx, escalated_to=ctx.user.id)


def supervises_anyone(ctx: Context) -> bool:
    """Whether the signed-in staff member is someone's supervisor in this organisation."""
    return ctx.session.scalar(
        select(Membership.user_id).where(Membership.org_id == ctx.org_id, Membership.supervisor_id == ctx.user.id).limit(1)
    ) is not None


def next_visits(session: Session, org_id: int, case_manager_id: int, today: date) -> list[tuple[int, date]]:
    """``(case id, next due date)`` of every open released case of ``case_manager_id`` whose
    follow-up is not over, due or not yet, soonest first (the calendar feed)."""
    org = session.get(Organisation, org_id)
    assert org is not None
    policy = Policy.of(org)
    query = select(Case.id, type_coerce(Case.actual_release, String), type_coerce(_last_visit(), String)).where(
        Case.org_id == org_id,
        Case.case_manager_id == case_manager_id,
        Case.status.in_(OPEN_RELEASED),
        Case.actual_release.is_not(None),
        Case.actual_release <= today,
        Case.actual_release >= today - timedelta(days=31 * policy.duration_months),
    )
    result = []
    for case_id, released, last in session.execute(query):
        released_on = as_date(released)
        due = next_due(policy, released_on, [as_date(last)] if last else [])
        if due is not None and policy.ends_on(released_on) >= today:
            result.append((case_id, due))
    result.sort(key=lambda r: (r[1], r[0]))
    return result


# --- the policy ------------------------------------------------------------------------------------


def set_policy(ctx: Context, data: FollowUpPolicyIn) -> Organisation:
    """Change the organisation's follow-up policy. Every number out of its range (an interval of
    1 to 366 days or 1 to 24 months, 1 to 120 months of follow-up, escalation after 1 to 365 days)
    is refused with its own message, and nothing is changed."""
    errors: dict[str, str] = {}

    def check(field: str, value: int, low: int, high: int) -> None:
        if not low <= value <= high:
            errors[field] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)

    check("follow_up_interval", data.follow_up_interval, *INTERVAL_RANGE[data.follow_up_interval_unit])
    check("follow_up_duration_months", data.follow_up_duration_months, *DURATION_RANGE)
    check("follow_up_escalate_days", data.follow_up_escalate_days, *ESCALATE_RANGE)
    if errors:
        raise InvalidInput(errors)
    org = ctx.organisation
    org.follow_up_interval = data.follow_up_interval
    org.follow_up_interval_unit = data.follow_up_interval_unit
    org.follow_up_duration_months = data.follow_up_duration_months
    org.follow_up_escalate_days = data.follow_up_escalate_days
    ctx.session.flush()
    return org


# --- calendar feeds --------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_feeds(ctx: Context) -> None:
    """Revoke the signed-in staff member's calendar feeds in this organisation."""
    ctx.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == ctx.user.id, CalendarFeed.org_id == ctx.org_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    ctx.session.flush()


def new_feed(ctx: Context) -> str:
    """A new private feed for the signed-in staff member (revoking the one before); returns the
    token, which is not stored (only its SHA-256): the URL can be shown once."""
    revoke_feeds(ctx)
    token = secrets.token_urlsafe(32)
    ctx.session.add(CalendarFeed(token_hash=_digest(token), user_id=ctx.user.id, org_id=ctx.org_id))
    ctx.session.flush()
    return token


def active_feed(ctx: Context) -> CalendarFeed | None:
    """The signed-in staff member's feed in this organisation, when one is not revoked."""
    return ctx.session.scalar(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == ctx.user.id, CalendarFeed.org_id == ctx.org_id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc())
        .limit(1)
    )


def feed_for_token(session: Session, token: str) -> CalendarFeed | None:
    """The feed of ``token`` while it may be read: not revoked, its owner active and still on the
    organisation's staff. Marks it used."""
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token), CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        return None
    staff = session.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == feed.user_id, User.is_active.is_(True), Membership.org_id == feed.org_id)
    )
    if staff is None:
        return None
    feed.last_used_at = utcnow()
    session.flush()
    return feed
