"""Release readiness: what of each release plan is still open as the release approaches.

A release plan has six areas (:class:`~core.models.GoalArea`); each area holds the case's goals in
it. An area is *done* when it has at least one goal and every goal in it is met or declined; an
area with no goal yet is open ("nothing planned"), so a plan nobody has started shows six open
areas rather than looking ready. Derived from cases and goals on every call; nothing is stored
twice (docs/release_plan.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from core.context import Context
from core.models import Case, CaseGoal, CaseStatus, GoalArea, GoalState, Person, User

WINDOWS = (30, 60, 90)
"""The release windows the dashboard and the readiness page group by, in days from today."""

CLOSED_STATES = frozenset({GoalState.met, GoalState.declined})
AREAS = tuple(GoalArea)


@dataclass(frozen=True)
class Area:
    """One area of a plan: its goals' states, worst first, and whether it is done."""

    area: GoalArea
    states: tuple[GoalState, ...]

    @property
    def done(self) -> bool:
        return bool(self.states) and all(s in CLOSED_STATES for s in self.states)

    @property
    def state(self) -> str:
        """What the readiness grid shows: the least advanced goal's state, or ``"none"``."""
        if not self.states:
            return "none"
        for state in (GoalState.not_started, GoalState.in_progress, GoalState.declined, GoalState.met):
            if state in self.states:
                return state.value
        return self.states[0].value  # pragma: no cover - every state is listed above


@dataclass(frozen=True)
class Readiness:
    """A case due for release and the state of its plan by area."""

    case_id: int
    person_name: str
    person_name_km: str | None
    expected_release: date
    prison: str | None
    case_manager_name: str | None
    areas: tuple[Area, ...]
    open_goals: tuple[tuple[GoalArea, str], ...] = field(default=())
    """``(area, description)`` of each goal not yet met or declined, in area order."""
    days_left: int = 0

    @property
    def open_areas(self) -> tuple[GoalArea, ...]:
        return tuple(a.area for a in self.areas if not a.done)

    @property
    def window(self) -> int | None:
        """The smallest of :data:`WINDOWS` the release falls in (0: the date has passed; ``None``:
        later than the last window)."""
        if self.days_left < 0:
            return 0
        return next((w for w in WINDOWS if self.days_left <= w), None)


def plan_areas(goals: list[CaseGoal]) -> tuple[Area, ...]:
    """The six areas of a plan from its goals (any order)."""
    by_area: dict[GoalArea, list[GoalState]] = defaultdict(list)
    for goal in goals:
        by_area[GoalArea(goal.area)].append(GoalState(goal.state))
    return tuple(Area(area, tuple(by_area.get(area, ()))) for area in AREAS)


def releases(
    ctx: Context,
    days: int = 90,
    case_manager_id: int | None = None,
    include_passed: bool = True,
    limit: int = 200,
) -> list[Readiness]:
    """Cases still inside (referred or pre-release) whose expected release is in the next ``days``
    days, soonest first, with their plans. ``include_passed`` adds those whose expected date has
    passed without a release being recorded (up to a year back): they need attention most.

    Two queries whatever the number of cases: the cases, then all their goals.
    """
    manager = User.__table__.alias("manager")
    start = ctx.today - timedelta(days=365) if include_passed else ctx.today
    query = (
        select(
            Case.id, Case.expected_release, Case.prison,
            Person.name, Person.name_km, manager.c.name.label("manager_name"),
        )
        .join(Person, Person.id == Case.person_id)
        .outerjoin(manager, manager.c.id == Case.case_manager_id)
        .where(
            Case.org_id == ctx.org_id,
            Case.status.in_([CaseStatus.referred, CaseStatus.pre_release]),
            Case.expected_release.between(start, ctx.today + timedelta(days=days)),
        )
        .order_by(Case.expected_release, Case.id)
        .limit(limit)
    )
    if case_manager_id is not None:
        query = query.where(Case.case_manager_id == case_manager_id)
    rows = ctx.session.execute(query).all()
    goals: dict[int, list[CaseGoal]] = defaultdict(list)
    if rows:
        for goal in ctx.session.scalars(
            select(CaseGoal)
            .where(CaseGoal.org_id == ctx.org_id, CaseGoal.case_id.in_([r.id for r in rows]))
            .order_by(CaseGoal.case_id, CaseGoal.id)
        ):
            goals[goal.case_id].append(goal)
    result = []
    for row in rows:
        case_goals = goals.get(row.id, [])
        area_order = {a: i for i, a in enumerate(AREAS)}
        open_goals = sorted(
            ((GoalArea(g.area), g.description) for g in case_goals if GoalState(g.state) not in CLOSED_STATES),
            key=lambda item: area_order[item[0]],
        )
        result.append(
            Readiness(
                case_id=row.id,
                person_name=row.name,
                person_name_km=row.name_km,
                expected_release=row.expected_release,
                prison=row.prison,
                case_manager_name=row.manager_name,
                areas=plan_areas(case_goals),
                open_goals=tuple(open_goals),
                days_left=(row.expected_release - ctx.today).days,
            )
        )
    return result


def by_window(items: list[Readiness]) -> dict[int, list[Readiness]]:
    """``{0: passed, 30: [...], 60: [...], 90: [...]}`` (every key present; releases later than
    the last window are left out)."""
    grouped: dict[int, list[Readiness]] = {0: [], **{w: [] for w in WINDOWS}}
    for item in items:
        if item.window is not None:
            grouped[item.window].append(item)
    return grouped
