"""Cases: search, create, edit, status transitions and the release plan's goals."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Row, func, or_, select, union, union_all
from sqlalchemy.orm import aliased

from core.context import Context
from core.errors import ActionRefused, RecordNotFound
from core.i18n import gettext as _
from core.models import STATUS_ORDER, Case, CaseGoal, CaseStatus, CloseReason, GoalArea, GoalState, Membership, Person, User
from core.schemas import CaseEditIn, CaseIn, GoalIn, GoalUpdateIn, StatusChangeIn
from core.services import audit, events
from core.services.columns import check_lengths
from core.services.persons import get_person, writable_values
from core.services.search import prefix_match

COUNT_CAP = 1000
"""Lists count matches up to this many and then say "1,000+": exact totals cost as much as the page."""


def get_case(ctx: Context, case_id: int) -> Case:
    """The case with this id in the current organisation, or :class:`RecordNotFound`."""
    case = ctx.session.scalar(select(Case).where(Case.id == case_id, Case.org_id == ctx.org_id))
    if case is None:
        raise RecordNotFound
    return case


def search_cases(
    ctx: Context,
    q: str = "",
    status: str | None = None,
    case_manager_id: int | None = None,
    prison: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Row], bool, int]:
    """One page of cases, newest first, with the columns the list shows.

    ``q`` matches the start of the person's Latin or Khmer name, or a prisoner number exactly.
    Returns ``(rows, has_more, total)`` where ``total`` stops counting at :data:`COUNT_CAP`.
    """
    manager = aliased(User)
    where = [Case.org_id == ctx.org_id]
    if status:
        where.append(Case.status == status)
    if case_manager_id:
        where.append(Case.case_manager_id == case_manager_id)
    if prison:
        where.append(Case.prison == prison)
    if q.strip():
        where.append(_matching(ctx, q.strip()))
    page = ctx.session.execute(
        select(
            Case.id,
            Case.status,
            Case.prison,
            Case.prisoner_number,
            Case.expected_release,
            Case.actual_release,
            Case.person_id,
            Person.name.label("person_name"),
            Person.name_km.label("person_name_km"),
            manager.name.label("case_manager_name"),
        )
        .join(Person, Person.id == Case.person_id)
        .outerjoin(manager, manager.id == Case.case_manager_id)
        .where(*where)
        .order_by(Case.id.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    has_more = len(page) > limit
    total = len(page[:limit]) + offset
    if has_more:
        base = select(Case.id).join(Person, Person.id == Case.person_id).where(*where)
        total = ctx.session.scalar(select(func.count()).select_from(base.limit(COUNT_CAP + 1).subquery())) or 0
    return page[:limit], has_more, total


NAME_PROBE = 2000
"""Below this many persons whose name starts with the search text, the search starts from the
name indexes; above it the matches are dense and walking the cases newest first is quicker
(bench/README.md has the figures)."""


def _matching(ctx: Context, text: str) -> ColumnElement[bool]:
    """Cases whose person's name starts with ``text`` or whose prisoner number is ``text``.

    One ``OR`` across persons and cases cannot use an index on SQLite or PostgreSQL, so a rare
    prefix (a full name, a typo, a prisoner number) would scan every case of the organisation.
    Count the persons the name indexes find first and pick the plan that fits.
    """
    persons = union_all(
        select(Person.id).where(Person.org_id == ctx.org_id, prefix_match(ctx.session, Person.name, text)),
        select(Person.id).where(Person.org_id == ctx.org_id, prefix_match(ctx.session, Person.name_km, text)),
    )
    found = ctx.session.scalar(select(func.count()).select_from(persons.limit(NAME_PROBE).subquery())) or 0
    if found < NAME_PROBE:
        return Case.id.in_(
            union(
                select(Case.id).where(Case.person_id.in_(persons)),
                select(Case.id).where(Case.org_id == ctx.org_id, Case.prisoner_number == text),
            )
        )
    return or_(
        prefix_match(ctx.session, Person.name, text),
        prefix_match(ctx.session, Person.name_km, text),
        Case.prisoner_number == text,
    )


def cases_of_person(ctx: Context, person_id: int) -> list[Case]:
    """The person's cases in this organisation, newest first."""
    return list(
        ctx.session.scalars(
            select(Case).where(Case.org_id == ctx.org_id, Case.person_id == person_id).order_by(Case.id.desc())
        )
    )


def prisons(ctx: Context) -> list[str]:
    """Prisons named on this organisation's cases, for the filter.

    A loose index scan (one seek in ``ix_cases_org_prison`` per prison, as a recursive query)
    rather than ``DISTINCT`` over all of the organisation's cases.
    """
    walk = select(func.min(Case.prison).label("prison")).where(Case.org_id == ctx.org_id).cte("walk", recursive=True)
    following = select(func.min(Case.prison)).where(Case.org_id == ctx.org_id, Case.prison > walk.c.prison).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.prison.is_not(None)))
    return list(ctx.session.scalars(select(walk.c.prison).where(walk.c.prison.is_not(None))))


def case_managers(ctx: Context) -> list[User]:
    """Staff of this organisation who can hold a caseload."""
    return list(
        ctx.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == ctx.org_id, Membership.role.in_(["case_manager", "admin"]), User.is_active.is_(True))
            .order_by(User.name)
        )
    )


def _check_case_fields(ctx: Context, data: CaseIn | CaseEditIn) -> None:
    check_lengths(Case, data.model_dump())
    if data.case_manager_id is not None and data.case_manager_id not in {u.id for u in case_managers(ctx)}:
        raise ActionRefused(_("Choose a case manager of this organisation."), "case_manager_id")
    if data.sentence_start and data.sentence_end and data.sentence_end < data.sentence_start:
        raise ActionRefused(_("The sentence cannot end before it starts."), "sentence_end")
    if data.sentence_start and data.expected_release and data.expected_release < data.sentence_start:
        raise ActionRefused(_("The release cannot come before the sentence starts."), "expected_release")


def create_case(ctx: Context, data: CaseIn) -> Case:
    """Open a case (status ``referred``) and write ``core.case_opened`` on its timeline."""
    try:
        person = get_person(ctx, data.person_id)
    except RecordNotFound:
        raise ActionRefused(_("Choose a person of this organisation."), "person_id") from None
    _check_case_fields(ctx, data)
    values = writable_values(ctx, data, "case")
    case = Case(org_id=ctx.org_id, opened_on=ctx.today, status=CaseStatus.referred, **values)
    ctx.session.add(case)
    ctx.session.flush()
    events.record_event(ctx, case, "core.case_opened", ctx.today, summary=person.name, system=True)
    audit.record_created(ctx, "case", case.id, {**values, "status": case.status, "opened_on": case.opened_on})
    return case


def update_case(ctx: Context, case: Case, data: CaseEditIn) -> Case:
    """Replace the case's details; the audit trail records the fields that changed (old, new).

    The offence details change only when sent (and only for holders of ``records.sensitive``)."""
    _check_case_fields(ctx, data)
    values = writable_values(ctx, data, "case")
    values.pop("person_id", None)
    before = audit.snapshot(case, list(values))
    for name, value in values.items():
        setattr(case, name, value)
    ctx.session.flush()
    audit.record_changed(ctx, "case", case.id, audit.differences(before, audit.snapshot(case, list(values))))
    return case


STATUS_FIELDS = ("status", "actual_release", "close_reason", "closed_on")
"""The fields of a case a change of status may set (the audit trail records their old and new values)."""


def allowed_transitions(case: Case) -> list[CaseStatus]:
    """Statuses the case may move to: any later one, and ``closed`` from any open status."""
    current = CaseStatus(case.status)
    if current is CaseStatus.closed:
        return []
    return STATUS_ORDER[STATUS_ORDER.index(current) + 1 :]


def change_status(ctx: Context, case: Case, data: StatusChangeIn) -> Case:
    """Move a case forward, checking the preconditions of the new status.

    ``released`` and ``follow_up`` need a release date (given now or already on the case, not in
    the future); ``closed`` needs a reason. Writes ``core.status_changed`` and calls
    ``on_case_status_changed`` in the same transaction.
    """
    old = CaseStatus(case.status)
    new = data.status
    before = audit.snapshot(case, STATUS_FIELDS)
    if new not in allowed_transitions(case):
        raise ActionRefused(
            _("A case cannot move from “%(old)s” to “%(new)s”.", old=status_label(old), new=status_label(new)),
            "status",
        )
    if new in (CaseStatus.released, CaseStatus.follow_up):
        release = data.actual_release or case.actual_release
        if release is None:
            raise ActionRefused(_("Enter the date the person was released."), "actual_release")
        if release > ctx.today:
            raise ActionRefused(_("The release date cannot be in the future."), "actual_release")
        if case.sentence_start and release < case.sentence_start:
            raise ActionRefused(_("The release cannot come before the sentence starts."), "actual_release")
        case.actual_release = release
    if new is CaseStatus.closed:
        if data.close_reason is None:
            raise ActionRefused(_("Choose the reason for closing the case."), "close_reason")
        case.close_reason = data.close_reason
        case.closed_on = ctx.today
    case.status = new
    ctx.session.flush()
    audit.record_changed(ctx, "case", case.id, audit.differences(before, audit.snapshot(case, STATUS_FIELDS)))
    payload: dict[str, object] = {"from": old.value, "to": new.value}
    if data.close_reason:
        payload["close_reason"] = data.close_reason.value
    events.record_event(ctx, case, "core.status_changed", ctx.today, summary=data.note, payload=payload, system=True)
    ctx.hooks.on_case_status_changed(ctx.session, case, old.value, new.value)
    return case


def goals(ctx: Context, case: Case) -> list[CaseGoal]:
    return list(
        ctx.session.scalars(
            select(CaseGoal).where(CaseGoal.case_id == case.id, CaseGoal.org_id == ctx.org_id).order_by(CaseGoal.area, CaseGoal.id)
        )
    )


GOAL_CHANGED = "core.goal_changed"
"""The timeline event written when a goal of the release plan is added or changes state."""


def add_goal(ctx: Context, case: Case, data: GoalIn) -> CaseGoal:
    """Add a goal to the release plan; the timeline records it (``core.goal_changed``)."""
    if data.area not in GoalArea.__members__:
        raise ActionRefused(_("Choose one of the options."), "area")
    if data.state not in GoalState.__members__:
        raise ActionRefused(_("Choose one of the options."), "state")
    goal = CaseGoal(org_id=ctx.org_id, case_id=case.id, **data.model_dump())
    ctx.session.add(goal)
    ctx.session.flush()
    _goal_event(ctx, case, goal, None)
    audit.record_changed(ctx, "case", case.id, _goal_changes(goal, {}))
    return goal


def get_goal(ctx: Context, case: Case, goal_id: int) -> CaseGoal:
    """The goal of this case's plan, or :class:`RecordNotFound`."""
    goal = ctx.session.scalar(
        select(CaseGoal).where(CaseGoal.id == goal_id, CaseGoal.case_id == case.id, CaseGoal.org_id == ctx.org_id)
    )
    if goal is None:
        raise RecordNotFound
    return goal


def update_goal(ctx: Context, case: Case, goal: CaseGoal, data: GoalUpdateIn) -> CaseGoal:
    """Change a goal's wording, state or next step; a change of state goes on the timeline."""
    if data.state not in GoalState.__members__:
        raise ActionRefused(_("Choose one of the options."), "state")
    old_state = GoalState(goal.state)
    before = audit.snapshot(goal, GOAL_FIELDS)
    for name, value in data.model_dump().items():
        setattr(goal, name, value)
    ctx.session.flush()
    if GoalState(data.state) is not old_state:
        _goal_event(ctx, case, goal, old_state)
    audit.record_changed(ctx, "case", case.id, _goal_changes(goal, before))
    return goal


GOAL_FIELDS = ("area", "description", "state", "next_step")


def _goal_changes(goal: CaseGoal, before: dict[str, object]) -> dict[str, list[object]]:
    """A goal's changed fields as changes of its case, named ``goal <id>.<field>``."""
    changed = audit.differences(before, audit.snapshot(goal, GOAL_FIELDS))
    return {f"goal {goal.id}.{name}": values for name, values in changed.items() if values != [None, None]}


def _goal_event(ctx: Context, case: Case, goal: CaseGoal, old_state: GoalState | None) -> None:
    payload = {"goal_id": goal.id, "area": GoalArea(goal.area).value, "to": GoalState(goal.state).value}
    if old_state is not None:
        payload["from"] = old_state.value
    events.record_event(ctx, case, GOAL_CHANGED, ctx.today, summary=goal.description, payload=payload, system=True)


def status_label(status: CaseStatus | str) -> str:
    labels = {
        CaseStatus.referred: _("Referred"),
        CaseStatus.pre_release: _("Pre-release"),
        CaseStatus.released: _("Released"),
        CaseStatus.follow_up: _("Follow-up"),
        CaseStatus.closed: _("Closed"),
    }
    return labels[CaseStatus(status)]


def close_reason_label(reason: CloseReason | str) -> str:
    labels = {
        CloseReason.completed: _("Completed"),
        CloseReason.re_offended: _("Re-offended"),
        CloseReason.withdrew: _("Withdrew"),
        CloseReason.transferred: _("Transferred"),
        CloseReason.deceased: _("Deceased"),
        CloseReason.lost_contact: _("Lost contact"),
    }
    return labels[CloseReason(reason)]

