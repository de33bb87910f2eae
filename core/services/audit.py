"""The audit trail: who created, changed, viewed or exported a person's or a case's record.

Creations and changes are recorded by the services that make them, in the same transaction, so a
refused or failed action leaves no entry. Views and exports are recorded by the routes that serve
them. Entries are append-only (:class:`core.models.AuditEntry`); nothing here changes one.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from core.auth import SENSITIVE
from core.context import Context
from core.errors import RecordNotFound
from core.models import AuditAction, AuditEntry, Case, Membership, Person, User
from core.schemas import SENSITIVE_FIELDS

log = logging.getLogger(__name__)

RECORD_TYPES = ("person", "case")


def plain(value: Any) -> Any:
    """A value as JSON keeps it: dates as ISO strings, enumerations as their value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``{field: value}`` of ``obj``, as the audit trail stores values (before a change)."""
    return {name: plain(getattr(obj, name)) for name in fields}


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def _entry(ctx: Context, action: AuditAction, record_type: str, record_id: int | None, changes: dict[str, Any]) -> AuditEntry:
    assert record_type in RECORD_TYPES, record_type
    entry = AuditEntry(
        org_id=ctx.org_id,
        user_id=ctx.user.id or None,
        action=action,
        record_type=record_type,
        record_id=record_id,
        changes=changes,
        ip=ctx.origin.ip,
        user_agent=ctx.origin.user_agent,
    )
    ctx.session.add(entry)
    return entry


def record_created(ctx: Context, record_type: str, record_id: int, values: dict[str, Any]) -> None:
    """Record a new record, with the fields it was given (``[None, value]`` each)."""
    _entry(ctx, AuditAction.created, record_type, record_id, {k: [None, plain(v)] for k, v in values.items() if v not in (None, "")})


def record_changed(ctx: Context, record_type: str, record_id: int, changes: dict[str, list[Any]]) -> None:
    """Record a change (``{field: [old, new]}``); nothing when nothing changed."""
    if changes:
        _entry(ctx, AuditAction.changed, record_type, record_id, changes)


def record_view(ctx: Context, record_type: str, record_id: int) -> None:
    """Record that the user was shown the record, and commit it.

    Call it only from a read-only request: it commits the request's session. Seeing a record must
    not fail because the trail could not be written (a locked database, a full disk): the failure
    is logged, and the page is served.
    """
    try:
        _entry(ctx, AuditAction.viewed, record_type, record_id, {})
        ctx.session.commit()
    except SQLAlchemyError:
        ctx.session.rollback()
        log.exception("could not record that user %s viewed %s %s", ctx.user.id, record_type, record_id)


def record_export(ctx: Context, record_type: str, filters: dict[str, Any], fmt: str) -> None:
    """Record that the user downloaded a list (every record the filter matches), and commit it.

    Unlike a view, a download is refused when it cannot be recorded: the error propagates.
    """
    _entry(ctx, AuditAction.exported, record_type, None, {"filter": {k: v for k, v in filters.items() if v not in (None, "")}, "format": fmt})
    ctx.session.commit()


def record_download(ctx: Context, record_type: str, record_id: int, what: str, fmt: str) -> None:
    """Record that the user downloaded ``what`` of one record (a person's copy of everything held
    about them: ``"everything"``), and commit it. Refused, like a list's, when it cannot be recorded."""
    _entry(ctx, AuditAction.exported, record_type, record_id, {"what": what, "format": fmt})
    ctx.session.commit()


# --- reading the trail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailRow:
    """One entry as the audit page shows it.

    ``changes`` is the entry's ``{field: [old, new]}`` as this reader may see it: for a reader
    without ``records.sensitive``, a sensitive field (medical notes, offence) is there with
    ``None`` instead of its values, so the page says it changed but not from what to what.
    """

    entry: AuditEntry
    user_name: str | None
    record_label: str | None
    changes: dict[str, list[Any] | None]


def readable_changes(ctx: Context, entry: AuditEntry) -> dict[str, list[Any] | None]:
    """The entry's changes with the values of sensitive fields withheld from a reader who may
    not see them (see :class:`TrailRow`)."""
    changes = dict(entry.changes or {})
    if entry.action == AuditAction.exported or ctx.user.can(SENSITIVE):
        return changes
    hidden = SENSITIVE_FIELDS.get(entry.record_type, frozenset())
    return {name: (None if name in hidden else values) for name, values in changes.items()}


def record_label(ctx: Context, record_type: str, record_id: int) -> str:
    """The person's name, or the case's person's name, of a record of this organisation, or
    :class:`RecordNotFound` (another organisation's record, or none)."""
    if record_type == "person":
        name = ctx.session.scalar(select(Person.name).where(Person.id == record_id, Person.org_id == ctx.org_id))
    elif record_type == "case":
        name = ctx.session.scalar(
            select(Person.name).join(Case, Case.person_id == Person.id).where(Case.id == record_id, Case.org_id == ctx.org_id)
        )
    else:
        name = None
    if name is None:
        raise RecordNotFound
    return name


def user_label(ctx: Context, user_id: int) -> str:
    """The name of a user who is, or was, on this organisation's staff (has entries in its trail),
    or :class:`RecordNotFound`."""
    known = or_(
        select(Membership.user_id).where(Membership.user_id == user_id, Membership.org_id == ctx.org_id).exists(),
        select(AuditEntry.id).where(AuditEntry.user_id == user_id, AuditEntry.org_id == ctx.org_id).exists(),
    )
    name = ctx.session.scalar(select(User.name).where(User.id == user_id, known))
    if name is None:
        raise RecordNotFound
    return name


def trail(
    ctx: Context,
    record_type: str | None = None,
    record_id: int | None = None,
    user_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TrailRow], bool]:
    """One page of this organisation's trail, newest first, for one record and/or one user.

    Returns the rows and whether more follow.
    """
    query = select(AuditEntry, User.name).outerjoin(User, User.id == AuditEntry.user_id).where(AuditEntry.org_id == ctx.org_id)
    if record_type:
        query = query.where(AuditEntry.record_type == record_type)
    if record_id is not None:
        query = query.where(AuditEntry.record_id == record_id)
    if user_id is not None:
        query = query.where(AuditEntry.user_id == user_id)
    found = ctx.session.execute(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1).offset(offset)).all()
    page = found[:limit]
    names = _record_names(ctx, [e for e, _name in page])
    rows = [TrailRow(e, name, names.get((e.record_type, e.record_id)), readable_changes(ctx, e)) for e, name in page]
    return rows, len(found) > limit


def _record_names(ctx: Context, entries: list[AuditEntry]) -> dict[tuple[str, int | None], str]:
    """``{(record type, id): person's name}`` for the entries of one page (two queries)."""
    person_ids = {e.record_id for e in entries if e.record_type == "person" and e.record_id is not None}
    case_ids = {e.record_id for e in entries if e.record_type == "case" and e.record_id is not None}
    names: dict[tuple[str, int | None], str] = {}
    if person_ids:
        for pid, name in ctx.session.execute(select(Person.id, Person.name).where(Person.org_id == ctx.org_id, Person.id.in_(person_ids))):
            names[("person", pid)] = name
    if case_ids:
        rows = ctx.session.execute(
            select(Case.id, Person.name).join(Person, Person.id == Case.person_id).where(Case.org_id == ctx.org_id, Case.id.in_(case_ids))
        )
        for cid, name in rows:
            names[("case", cid)] = name
    return names
