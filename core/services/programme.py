"""The programme dashboard's figures: what a director shows a donor (docs/programme.md).

* **people by status, now**: the organisation's cases by their status today (pre-release counts
  ``referred`` and ``pre_release`` together);
* **releases per month**: cases whose actual release date falls in the month;
* **visits on time per month**: of the follow-up visits that fell due in the month under the
  organisation's follow-up policy (:func:`core.services.followups.due_visits`), the share made on
  or before their due date. A due date after the end of the range, after the case was closed or
  after follow-up ended does not count; visits before release do not count; a visit another
  event corrects (``corrects_id``) does not count (the correction, when it is a visit, does);
* **module indicators**: each enabled module's :class:`~core.contributions.Indicator` series;
* **breakdowns**: totals over the range split by dimensions, per currency, that modules
  contribute (:class:`~core.contributions.Breakdown`): the ledger's spending by module and fund
  comes this way, so core never imports the ledger (``plugins -> ledger -> core``).

Every figure is answered for the whole range at once: a fixed number of queries whatever the
number of months, cases or events (``tests/core/test_programme.py`` counts them). Rows are
grouped by day in SQL and added up by month here, because SQLite's and PostgreSQL's month
functions differ.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, not_, select
from sqlalchemy.orm import aliased

from core.context import Context
from core.contributions import Breakdown, BreakdownRow, Indicator
from core.models import Case, CaseStatus, Event
from core.services.followups import Policy, due_visits
from core.services.outcomes import add_months

FOLLOW_UP_KIND = "core.follow_up_visit"
MONTHS = 12
"""The dashboard shows this many months, ending with the chosen one."""

PRE_RELEASE = (CaseStatus.referred, CaseStatus.pre_release)


# --- months ------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_of(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s, in order."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def by_month(rows: Iterable[tuple[date | str, int | Decimal]]) -> dict[date, int | Decimal]:
    """Add up ``(day, value)`` rows (a query grouped by day) by month: ``{first day: total}``.

    The helper modules use in their indicators' ``monthly``: SQLite gives dates of grouped
    expressions as ISO text, which is read here too.
    """
    totals: dict[date, int | Decimal] = {}
    for day, value in rows:
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        month = month_start(day)
        totals[month] = totals.get(month, 0) + (value or 0)
    return totals


@dataclass(frozen=True)
class Range:
    """The months the dashboard shows: ``MONTHS`` months ending with ``last_month``, through
    ``end`` (the last day of that month, or today when the month is the current one)."""

    first: date
    end: date

    @property
    def months(self) -> list[date]:
        return months_of(self.first, self.end)

    @property
    def last_month(self) -> date:
        return month_start(self.end)


def range_ending(month: date, today: date, months: int = MONTHS) -> Range:
    """``months`` months ending with ``month``'s (never after today's month)."""
    last = min(month_start(month), month_start(today))
    return Range(add_months(last, -(months - 1)), min(month_end(last), today))


# --- the figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One figure month by month: ``values[i]`` is the figure of ``months[i]``."""

    key: str
    label: str
    months: tuple[date, ...]
    values: tuple[int | Decimal, ...]
    currency: str | None = None
    definition: str = ""

    @property
    def total(self) -> int | Decimal:
        return sum(self.values, Decimal(0) if self.currency else 0)


@dataclass(frozen=True)
class OnTime:
    """The follow-up visits that fell due in one month and how many were made by their due date."""

    month: date
    due: int = 0
    on_time: int = 0

    @property
    def share(self) -> Decimal | None:
        """On time / due, 0 to 1 (``None``: nothing fell due)."""
        return (Decimal(self.on_time) / Decimal(self.due)).quantize(Decimal("0.0001")) if self.due else None


@dataclass(frozen=True)
class Totals:
    """A :class:`~core.contributions.Breakdown`'s rows over the range."""

    key: str
    label: str
    dimensions: tuple[str, ...]
    rows: tuple[BreakdownRow, ...]
    definition: str = ""

    @property
    def currencies(self) -> list[str]:
        """The currencies of the rows, USD and KHR first."""
        found = {r.currency for r in self.rows}
        return [c for c in ("USD", "KHR") if c in found] + sorted(found - {"USD", "KHR"})

    def rows_in(self, currency: str) -> list[BreakdownRow]:
        return [r for r in self.rows if r.currency == currency]

    def total(self, currency: str) -> Decimal:
        return sum((r.amount for r in self.rows_in(currency)), Decimal(0))


@dataclass(frozen=True)
class Dashboard:
    """Everything the programme dashboard shows."""

    range: Range
    statuses: dict[str, int]
    releases: Series
    on_time: tuple[OnTime, ...]
    indicators: tuple[Series, ...]
    breakdowns: tuple[Totals, ...] = ()

    @property
    def pre_release(self) -> int:
        return sum(self.statuses.get(s.value, 0) for s in PRE_RELEASE)

    @property
    def on_time_total(self) -> OnTime:
        return OnTime(self.range.first, sum(m.due for m in self.on_time), sum(m.on_time for m in self.on_time))


def status_counts(ctx: Context) -> dict[str, int]:
    """The organisation's cases by status today (every status present, 0 when none)."""
    counts = dict.fromkeys((s.value for s in CaseStatus), 0)
    for status, n in ctx.session.execute(
        select(Case.status, func.count()).where(Case.org_id == ctx.org_id).group_by(Case.status)
    ):
        counts[str(getattr(status, "value", status))] = int(n)
    return counts


def releases(ctx: Context, first: date, end: date) -> dict[date, int]:
    """Cases released in each month from ``first`` to ``end`` (by their actual release date)."""
    return by_month(  # type: ignore[return-value]
        ctx.session.execute(
            select(Case.actual_release, func.count())
            .where(Case.org_id == ctx.org_id, Case.actual_release >= first, Case.actual_release <= end)
            .group_by(Case.actual_release)
        ).all()
    )


def visits_on_time(ctx: Context, first: date, end: date) -> list[OnTime]:
    """Per month from ``first`` to ``end``: the follow-up visits that fell due in it and those
    made on or before their due date (see the module's docstring). Two queries."""
    policy = Policy.of(ctx.organisation)
    # A case's due dates run from release to the end of its follow-up: only cases released early
    # enough to have one in the range (a few days' margin for month-end clamping; the exact test
    # is on each due date below).
    earliest = add_months(first, -policy.duration_months) - timedelta(days=4)
    in_range = (
        Case.org_id == ctx.org_id,
        Case.actual_release.is_not(None),
        Case.actual_release <= end,
        Case.actual_release >= earliest,
    )
    cases = {
        case_id: (released, closed_on)
        for case_id, released, closed_on in ctx.session.execute(select(Case.id, Case.actual_release, Case.closed_on).where(*in_range))
    }
    correction = aliased(Event)
    visits: dict[int, list[date]] = defaultdict(list)
    for case_id, day in ctx.session.execute(
        select(Event.case_id, Event.occurred_on)
        .join(Case, Case.id == Event.case_id)
        .where(
            *in_range,
            Event.org_id == ctx.org_id,
            Event.kind == FOLLOW_UP_KIND,
            Event.occurred_on <= end,
            not_(exists().where(correction.case_id == Event.case_id, correction.corrects_id == Event.id)),
        )
    ):
        visits[case_id].append(day)
    due: dict[date, list[int]] = {m: [0, 0] for m in months_of(first, end)}
    for case_id, (released, closed_on) in cases.items():
        for visit in due_visits(policy, released, visits.get(case_id, ())):
            if visit.due_on < first or visit.due_on > end or (closed_on is not None and visit.due_on > closed_on):
                continue
            tally = due[month_start(visit.due_on)]
            tally[0] += 1
            tally[1] += int(visit.on_time())
    return [OnTime(month, n, made) for month, (n, made) in due.items()]


def series(key: str, label: str, months: list[date], values: Mapping[date, int | Decimal], currency: str | None = None, definition: str = "") -> Series:
    """A :class:`Series` of ``months`` from a ``{month: value}`` answer (missing months are 0)."""
    zero: int | Decimal = Decimal(0) if currency else 0
    return Series(key, label, tuple(months), tuple(values.get(m, zero) for m in months), currency, definition)


def indicators(ctx: Context, first: date, end: date) -> list[Series]:
    """The series of every indicator of the organisation's enabled modules that the user may
    see; a money indicator with nothing in the range is left out."""
    months = months_of(first, end)
    out = []
    indicator: Indicator
    for indicator in ctx.hooks.report_indicators(ctx.organisation):
        if not ctx.user.can(indicator.permission):
            continue
        s = series(indicator.key, str(indicator.label), months, indicator.monthly(ctx, first, end), indicator.currency, str(indicator.definition))
        if indicator.currency and not any(s.values):
            continue
        out.append(s)
    return out


def breakdowns(ctx: Context, first: date, end: date) -> list[Totals]:
    """The rows of every breakdown of the organisation's enabled (and always-on) modules that
    the user may see."""
    out = []
    breakdown: Breakdown
    for breakdown in ctx.hooks.report_breakdowns(ctx.organisation):
        if ctx.user.can(breakdown.permission):
            rows = tuple(breakdown.totals(ctx, first, end))
            out.append(Totals(breakdown.key, str(breakdown.label), tuple(str(d) for d in breakdown.dimensions), rows, str(breakdown.definition)))
    return out


def dashboard(ctx: Context, month: date | None = None) -> Dashboard:
    """The programme dashboard for the ``MONTHS`` months ending with ``month`` (default: this one)."""
    r = range_ending(month or ctx.today, ctx.today)
    months = r.months
    return Dashboard(
        range=r,
        statuses=status_counts(ctx),
        releases=series("core.releases", "", months, releases(ctx, r.first, r.end)),
        on_time=tuple(visits_on_time(ctx, r.first, r.end)),
        indicators=tuple(indicators(ctx, r.first, r.end)),
        breakdowns=tuple(breakdowns(ctx, r.first, r.end)),
    )
