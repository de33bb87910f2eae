"""Outcomes: re-offending within 6 months of release and overall, and the time to re-offence.

The definitions are in ``docs/outcomes.md`` and on the report page; in short:

* **released**: a case with ``actual_release`` on or before the report date; its **cohort** is
  the year of release.
* **re-offence**: the first ``core.reoffended`` event of the case at a counted stage (arrested,
  charged, convicted; a suspicion does not count), dated by its offence date (the event's own
  date when the offence date is not known), on or after release and on or before the report
  date. An event another event corrects (``corrects_id``) no longer counts.
* **eligible (6 months)**: released at least 6 calendar months before the report date; the
  **6-month rate** is the share of eligible people whose re-offence fell within 6 calendar
  months of release. The **overall rate** is the share of all released people who re-offended.
* **survival**: Kaplan-Meier estimate of staying free of re-offence, in days since release,
  censored at the report date, at the end of the organisation's follow-up period, or when the
  case closed for a reason other than re-offending.

Scale: one query returns one row per released case, the first re-offence and the module
participation worked out in the database by correlated subqueries on the
``events(case_id, kind, occurred_on)`` index; the grouping and the calendar-month arithmetic are
done here, because SQLite's and PostgreSQL's month arithmetic disagree at month ends.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Date, String, and_, cast, exists, func, not_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from core.context import Context
from core.db import as_date
from core.default_hooks import COUNTED_STAGES, REOFFENCE_KIND
from core.models import Case, CloseReason, Event, Organisation, OrganisationModule

WINDOW_MONTHS = 6
"""The window of the headline figure: re-offending within 6 months of release."""

ALL = "all"
"""The ``cohort`` of a row that covers every release year."""

PARTICIPANTS, NON_PARTICIPANTS = "participants", "non_participants"


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ReleasedCase:
    """What the report needs of one released case."""

    case_id: int
    released: date
    prison: str | None
    closed_on: date | None
    close_reason: str | None
    reoffended_on: date | None
    """The date of the first counted re-offence on or after release (``None``: none recorded)."""
    modules: frozenset[str] = frozenset()
    """The modules the case took part in (an event of the module's namespace on its timeline)."""


@dataclass(frozen=True)
class Figures:
    """One row of the report: the counts of one group of released people."""

    group: str
    """``overall``, ``cohort``, ``prison`` or ``module:<name>``."""
    value: str | None
    """The organisation's short name, the cohort year, the prison (``None``: not recorded), or
    ``participants`` / ``non_participants``."""
    cohort: str
    """The release year the row counts, or ``all``."""
    released: int
    eligible_6m: int
    reoffended_6m: int
    reoffended_total: int

    @property
    def rate_6m(self) -> float | None:
        return self.reoffended_6m / self.eligible_6m if self.eligible_6m else None

    @property
    def rate_total(self) -> float | None:
        return self.reoffended_total / self.released if self.released else None

    def as_dict(self) -> dict[str, object]:
        """The row as the CLI's JSON and the exports give it (rates 0..1, 4 places, or null)."""
        return {
            "group": self.group,
            "value": self.value,
            "cohort": self.cohort,
            "released": self.released,
            "eligible_6m": self.eligible_6m,
            "reoffended_6m": self.reoffended_6m,
            "rate_6m": None if self.rate_6m is None else round(self.rate_6m, 4),
            "reoffended_total": self.reoffended_total,
            "rate_total": None if self.rate_total is None else round(self.rate_total, 4),
        }


FIELDS = ("group", "value", "cohort", "released", "eligible_6m", "reoffended_6m", "rate_6m", "reoffended_total", "rate_total")
"""The keys of :meth:`Figures.as_dict`, in order (the columns of the exports)."""


@dataclass(frozen=True)
class SurvivalPoint:
    """One step of the Kaplan-Meier curve: the estimate just after day ``t`` since release."""

    t: int
    survival: float
    at_risk: int
    events: int
    censored: int


@dataclass(frozen=True)
class Report:
    """The recidivism report of one organisation on one day: the rows (the ``overall`` row
    first), the survival curve's steps, and what the figures were computed with."""

    organisation: str
    on: date
    follow_up_months: int
    modules: tuple[str, ...]
    rows: tuple[Figures, ...]
    survival: tuple[SurvivalPoint, ...]
    closed_reoffended_without_event: int
    """Cases closed as re-offended with no counted re-offence recorded: not counted (a data
    issue the page points out)."""

    def group(self, name: str) -> list[Figures]:
        return [row for row in self.rows if row.group == name]

    @property
    def overall(self) -> Figures:
        return self.rows[0]


# --- the query -------------------------------------------------------------------------------------


def released_cases(session: Session, org_id: int, on: date, modules: Sequence[str] = ()) -> list[ReleasedCase]:
    """Every case of the organisation released on or before ``on``, with its first counted
    re-offence and the ``modules`` it took part in: one query, whatever the number of cases."""
    postgres = session.get_bind().dialect.name == "postgresql"
    offence_date = Event.payload["offence_date"].as_string()
    # JSON gives text; PostgreSQL compares it with a date only once cast. On SQLite dates are
    # ISO text already (and CAST AS DATE would make a number of it).
    dated = func.coalesce(cast(offence_date, Date) if postgres else offence_date, Event.occurred_on)
    correction = aliased(Event)
    first_reoffence = (
        select(func.min(dated))
        .where(
            Event.case_id == Case.id,
            Event.org_id == org_id,
            Event.kind == REOFFENCE_KIND,
            Event.payload["stage"].as_string().in_(COUNTED_STAGES),
            dated >= Case.actual_release,
            dated <= on,
            # Superseded by a correction: the correction (a new re-offence event, or a note that
            # it was recorded in error) is what counts.
            not_(exists().where(correction.case_id == Event.case_id, correction.corrects_id == Event.id)),
        )
        .correlate(Case)
        .scalar_subquery()
    )
    took_part = [
        exists().where(Event.case_id == Case.id, _in_namespace(module, postgres), Event.occurred_on <= on).correlate(Case).label(f"module_{i}")
        for i, module in enumerate(modules)
    ]
    # Dates as the driver gives them: SQLAlchemy's parsing of SQLite's ISO text costs more than
    # the query at the design size; ``date.fromisoformat`` below does it for a fraction.
    as_is = [type_coerce(column, String) for column in (Case.actual_release, Case.closed_on)]
    query = select(
        Case.id, *as_is, Case.prison, Case.close_reason, first_reoffence.label("reoffended_on"), *took_part
    ).where(and_(Case.org_id == org_id, Case.actual_release.is_not(None), Case.actual_release <= on))
    result = []
    for case_id, released, closed_on, prison, close_reason, reoffended_on, *flags in session.connection().execute(query):
        took = frozenset(m for m, flag in zip(modules, flags) if flag) if modules else frozenset()
        result.append(ReleasedCase(case_id, as_date(released), prison, as_date(closed_on), close_reason, as_date(reoffended_on), took))
    return result


def _in_namespace(module: str, postgres: bool) -> ColumnElement[bool]:
    """``events.kind`` starts with ``<module>.``, written so that the case's entries of the
    ``events(case_id, kind, occurred_on)`` index answer it alone.

    On SQLite a ``LIKE`` never uses that index (the column is case-sensitive) and the planner
    then reads every event of the case from the table: a range on ``kind`` instead (binary
    collation: ``'/'`` follows ``'.'``) makes it 50 times faster at the design size. PostgreSQL
    compares text by the database's collation, where a range of punctuation is not a prefix;
    there ``LIKE`` is filtered on the index entries.
    """
    if postgres:
        return Event.kind.startswith(f"{module}.", autoescape=True)
    return and_(Event.kind >= f"{module}.", Event.kind < f"{module}/")


# --- the figures -----------------------------------------------------------------------------------


def figures(cases: Iterable[ReleasedCase], on: date, organisation: str, modules: Sequence[str] = ()) -> list[Figures]:
    """The rows of the report, in the order the page and the exports show them.

    ``overall`` (cohort ``all``); one ``cohort`` row per release year; per prison and per module
    (participants and non-participants) a row for all cohorts then one per release year.
    """
    # [released, eligible_6m, reoffended_6m, reoffended_total] per (group, value, cohort)
    tallies: dict[tuple[str, str | None, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    tallies[("overall", organisation, ALL)]  # noqa: B018 - an organisation with no release still gets its row
    for case in cases:
        window_end = add_months(case.released, WINDOW_MONTHS)
        eligible = window_end <= on
        within = eligible and case.reoffended_on is not None and case.reoffended_on <= window_end
        counts = (1, int(eligible), int(within), int(case.reoffended_on is not None))
        year = str(case.released.year)
        keys = [("overall", organisation, ALL), ("cohort", year, year), ("prison", case.prison, ALL), ("prison", case.prison, year)]
        for m in modules:
            value = PARTICIPANTS if m in case.modules else NON_PARTICIPANTS
            keys += [(f"module:{m}", value, ALL), (f"module:{m}", value, year)]
        for key in keys:
            tally = tallies[key]
            for i in range(4):
                tally[i] += counts[i]

    def order(key: tuple[str, str | None, str]) -> tuple[int, int, str, int, str]:
        group, value, cohort = key
        rank = 0 if group == "overall" else 1 if group == "cohort" else 2 if group == "prison" else 3 + list(modules).index(group[7:])
        if group.startswith("module:"):
            value_rank = 0 if value == PARTICIPANTS else 1
        else:  # named prisons in alphabetical order, "not recorded" last
            value_rank = int(value is None)
        return (rank, value_rank, value or "", int(cohort != ALL), cohort)

    return [Figures(group, value, cohort, *t) for (group, value, cohort), t in sorted(tallies.items(), key=lambda item: order(item[0]))]


def observation(case: ReleasedCase, on: date, follow_up_months: int) -> tuple[int, bool]:
    """``(days since release, re-offended?)`` of one case for the survival curve.

    Followed until the first of: the report date, the end of the follow-up period, the closing
    of the case for a reason other than re-offending. A re-offence on or before that day is an
    event; otherwise the case is censored there (still free of re-offence when last known).
    """
    end = min(on, add_months(case.released, follow_up_months))
    if case.closed_on is not None and case.close_reason != CloseReason.re_offended:
        end = min(end, case.closed_on)
    if case.reoffended_on is not None and case.reoffended_on <= end:
        return (case.reoffended_on - case.released).days, True
    return max(0, (end - case.released).days), False


def kaplan_meier(observations: Iterable[tuple[int, bool]]) -> list[SurvivalPoint]:
    """The Kaplan-Meier estimate of survival from ``(time, event?)`` pairs.

    The first point is the start (``t`` 0, survival 1, everyone at risk); then one point per
    distinct time with an event or a censoring. At a time with both, the events come first: a
    case censored on day ``t`` was still at risk on day ``t`` (the usual convention).
    """
    by_time: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    total = 0
    for t, event in observations:
        by_time[t][0 if event else 1] += 1
        total += 1
    points = [SurvivalPoint(0, 1.0, total, 0, 0)]
    at_risk, survival = total, 1.0
    for t in sorted(by_time):
        events, censored = by_time[t]
        if events:
            survival *= 1 - events / at_risk
        points.append(SurvivalPoint(t, survival, at_risk, events, censored))
        at_risk -= events + censored
    return points


def recidivism(session: Session, organisation: Organisation, modules: Sequence[str], on: date) -> Report:
    """The recidivism report of one organisation on day ``on`` (see the module's docstring).

    :param modules: the modules whose participation is reported (the organisation's enabled
        ones, see :func:`enabled_modules`).
    """
    modules = tuple(sorted(modules))
    cases = released_cases(session, organisation.id, on, modules)
    months = organisation.follow_up_duration_months
    return Report(
        organisation=organisation.slug,
        on=on,
        follow_up_months=months,
        modules=modules,
        rows=tuple(figures(cases, on, organisation.slug, modules)),
        survival=tuple(kaplan_meier(observation(c, on, months) for c in cases)),
        closed_reoffended_without_event=sum(
            1 for c in cases if c.close_reason == CloseReason.re_offended and c.reoffended_on is None
        ),
    )


def enabled_modules(session: Session, org_id: int, installed: Iterable[str]) -> list[str]:
    """The installed modules the organisation has switched on (the ones programme participation
    is reported for)."""
    on = set(session.scalars(select(OrganisationModule.module).where(OrganisationModule.org_id == org_id, OrganisationModule.enabled.is_(True))))
    return sorted(on & set(installed))


def report_for(ctx: Context, on: date | None = None) -> Report:
    """The report of the current organisation, participation in its enabled modules (not the
    always-on ledger, which writes no timeline events)."""
    modules = sorted(ctx.hooks.enabled - ctx.registry.always_on)
    return recidivism(ctx.session, ctx.organisation, modules, on or ctx.today)
