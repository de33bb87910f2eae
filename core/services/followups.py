"""The follow-up schedule: when each released person's next visit is due, derived from the release
date and the visits recorded, under the organisation's policy (docs/follow_up.md).

The rule is "a visit at least every <interval> after release": the next visit is due one interval
after the latest visit made on or after release (or after release when there was none). A visit
made early moves the next due date earlier; a late one moves it later; visits dated before release
(a data-entry slip) do not count. An interval in months keeps the day of the month, or the
month's last day when it is shorter (31 January + 1 month = 28 or 29 February). Follow-up ends
``duration_months`` calendar months after release: no visit falls due after that day.

This module is pure (no database); :mod:`core.services.dashboard` and the follow-up pages feed it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from core.models import Organisation

Unit = Literal["days", "months"]
UNITS: tuple[Unit, ...] = ("days", "months")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the last day of a shorter month."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


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
