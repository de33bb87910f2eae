"""The case timeline: recording events and reading them back, newest first."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, or_, select

from core.context import Context
from core.errors import ActionRefused, InvalidInput, RecordNotFound
from core.i18n import gettext as _
from core.models import Case, Event, User
from core.contributions import EventKind
from core.validation import parse


def visible_kinds(ctx: Context) -> list[EventKind]:
    """Event kinds of core and of the modules this organisation has enabled."""
    return [k for k in ctx.registry.event_kinds.values() if ctx.hooks.is_visible_kind(k.kind)]


def manual_kinds(ctx: Context) -> list[EventKind]:
    """Kinds the current user may record by hand on a case."""
    return [k for k in visible_kinds(ctx) if k.manual and ctx.user.can(k.permission)]


def record_event(
    ctx: Context,
    case: Case,
    kind: str,
    occurred_on: date,
    *,
    summary: str = "",
    payload: dict[str, Any] | BaseModel | None = None,
    corrects_id: int | None = None,
    system: bool = False,
) -> Event:
    """Append an event to ``case``'s timeline and let enabled modules react, in this transaction.

    :param kind: a registered kind (``core.note``, ``training.certified`` ...) of core or of a
        module the organisation has enabled.
    :param payload: checked against the kind's schema; errors come back as :class:`InvalidInput`
        keyed ``payload.<field>``.
    :param corrects_id: the event this one corrects (same case).
    :param system: written by the application (status changes, module actions) rather than typed
        in by a user; skips the check that the kind may be recorded by hand.
    """
    event_kind = ctx.registry.event_kinds.get(kind)
    if event_kind is None or not ctx.hooks.is_visible_kind(kind):
        raise ActionRefused(_("Choose one of the options."), "kind")
    if not system and (not event_kind.manual or not ctx.user.can(event_kind.permission)):
        raise ActionRefused(_("You cannot record this kind of event."), "kind")
    if case.org_id != ctx.org_id:
        raise RecordNotFound
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    payload = payload or {}
    if event_kind.schema is not None:
        payload = parse(event_kind.schema, payload, prefix="payload.").model_dump(mode="json")
    if corrects_id is not None:
        original = ctx.session.scalar(select(Event.id).where(Event.id == corrects_id, Event.case_id == case.id))
        if original is None:
            raise InvalidInput({"corrects_id": _("Choose an event of this case.")})
    event = Event(
        org_id=ctx.org_id,
        case_id=case.id,
        kind=kind,
        occurred_on=occurred_on,
        recorded_by_id=ctx.user.id,
        summary=summary,
        payload=payload,
        corrects_id=corrects_id,
    )
    ctx.session.add(event)
    ctx.session.flush()
    ctx.hooks.on_event_recorded(ctx.session, event, case)
    return event


def timeline(
    ctx: Context,
    case: Case,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
    prefix: str | None = None,
) -> tuple[list[Row], bool]:
    """One page of the case's timeline, newest first, with only the columns the page shows.

    Events of modules the organisation has disabled are left out; ``prefix`` keeps only one
    module's events.
    """
    prefixes = [prefix] if prefix else ["core", *sorted(ctx.hooks.enabled)]
    query = (
        select(
            Event.id,
            Event.kind,
            Event.occurred_on,
            Event.recorded_at,
            Event.summary,
            Event.payload,
            Event.corrects_id,
            Event.recorded_by_id,
            User.name.label("recorded_by"),
        )
        .outerjoin(User, User.id == Event.recorded_by_id)
        .where(Event.case_id == case.id, Event.org_id == ctx.org_id)
        .where(or_(*(Event.kind.like(f"{p}.%") for p in prefixes)))
        .order_by(Event.occurred_on.desc(), Event.id.desc())
        .limit(limit + 1)
        .offset(offset)
    )
    if kind:
        query = query.where(Event.kind == kind)
    rows = ctx.session.execute(query).all()
    return rows[:limit], len(rows) > limit
