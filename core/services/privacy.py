"""Data protection: a person's copy of everything held about them, and anonymising closed cases
after the organisation's retention period (docs/privacy.md).

Anonymising keeps what the statistics count and removes what identifies the person. Two kinds of
row are append-only and are nevertheless changed here, deliberately and only here:

* timeline events (the ORM refuses to change them, :func:`core.db.refuse_changes`): their summary
  and free-text payload values are blanked with Core ``UPDATE`` statements on the table, which
  the ORM's ``before_flush`` guard does not see. This is the one sanctioned erasure of an event.
* audit entries (also guarded by database triggers, migration 0006): their ``changes`` (old and
  new values, names among them) are replaced by :data:`REDACTED`, the one UPDATE the triggers
  allow; who did what to which record, and when, stays.

The ledger is never touched: its entries refer to cases and grants by id, and its amounts stay,
so every balance and total is the same after as before.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select, update

from core.context import Context
from core.errors import ActionRefused
from core.i18n import gettext as _
from core.models import (
    Attachment,
    AttachmentContent,
    AuditAction,
    AuditEntry,
    Case,
    CaseGoal,
    CaseStatus,
    Consent,
    Event,
    Organisation,
    Person,
    PersonLink,
    utcnow,
)
from core.services import audit, persons
from core.services.outcomes import add_months

REDACTED: dict[str, Any] = {"redacted": True}
"""What an anonymised record's audit entries hold in ``changes`` instead of its old and new values
(the one change the audit trail's triggers allow, migration 0006)."""

ERASED_FILENAME = "erased"
"""The file name an attachment keeps once its content is erased (its size, type and checksum stay)."""


def anonymised_name(person_id: int) -> str:
    """The name an anonymised person is shown under."""
    return f"Anonymised {person_id}"


# --- a person's copy of their data ----------------------------------------------------------------


def _row(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a mapped row, as JSON keeps it (dates ISO, enumerations by value)."""
    return {c.key: audit.plain(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in exclude}


def export_person(ctx: Context, person: Person) -> dict[str, Any]:
    """Everything held about ``person`` in this organisation, as JSON values: the person's record
    (medical notes included), family links, consents, every case with its goals and timeline, the
    audit entries about the person and their cases, and what each installed module holds about
    them (the ``person_data`` hook: attachments by their metadata only).

    Reads only; the caller records the download (:func:`core.services.audit.record_download`).
    """
    case_rows = list(ctx.session.scalars(select(Case).where(Case.org_id == ctx.org_id, Case.person_id == person.id).order_by(Case.id)))
    case_ids = [c.id for c in case_rows]
    goals: dict[int, list[dict[str, Any]]] = {cid: [] for cid in case_ids}
    events: dict[int, list[dict[str, Any]]] = {cid: [] for cid in case_ids}
    if case_ids:
        for goal in ctx.session.scalars(select(CaseGoal).where(CaseGoal.org_id == ctx.org_id, CaseGoal.case_id.in_(case_ids)).order_by(CaseGoal.id)):
            goals[goal.case_id].append(_row(goal, ("org_id",)))
        for event in ctx.session.scalars(select(Event).where(Event.org_id == ctx.org_id, Event.case_id.in_(case_ids)).order_by(Event.occurred_on, Event.id)):
            events[event.case_id].append(_row(event, ("org_id",)))
    about = [(AuditEntry.record_type == "person") & (AuditEntry.record_id == person.id)]
    if case_ids:
        about.append((AuditEntry.record_type == "case") & AuditEntry.record_id.in_(case_ids))
    trail = ctx.session.scalars(select(AuditEntry).where(AuditEntry.org_id == ctx.org_id, or_(*about)).order_by(AuditEntry.at, AuditEntry.id))
    return {
        "organisation": ctx.organisation.slug,
        "exported_at": utcnow().isoformat(),
        "person": _row(person, ("org_id",)),
        "family": [
            {"relation": relation.value, "person_id": relative.id, "name": relative.name, "link_id": link_id}
            for relation, relative, link_id in persons.family_of(ctx, person)
        ],
        "consents": [_row(c, ("org_id",)) for c in ctx.session.scalars(
            select(Consent).where(Consent.org_id == ctx.org_id, Consent.person_id == person.id).order_by(Consent.id)
        )],
        "cases": [{**_row(c, ("org_id",)), "goals": goals[c.id], "events": events[c.id]} for c in case_rows],
        "audit_entries": [_row(e, ("org_id",)) for e in trail],
        "modules": module_data(ctx, person.id),
    }


def module_data(ctx: Context, person_id: int) -> dict[str, Any]:
    """``{module: what it holds about the person}`` from every installed module that holds
    anything (``person_data``; each module asked separately so its answer goes under its name)."""
    pm = ctx.registry.pm
    found: dict[str, Any] = {}
    for name, loaded in sorted(ctx.registry.modules.items()):
        others = [p for p in pm.get_plugins() if p is not loaded.plugin]
        results = pm.subset_hook_caller("person_data", remove_plugins=others)(ctx=ctx, person_id=person_id)
        data = next((r for r in results if r is not None), None)
        if data:
            found[name] = data
    return found


def exported_row(
    row: Any,
    currencies: Mapping[str, str | None] | None = None,
    from_minor: Callable[[int, str], Any] | None = None,
    exclude: tuple[str, ...] = ("org_id",),
) -> dict[str, Any]:
    """A module's row for :func:`export_person` (``person_data``): every column as JSON keeps it,
    amounts in minor units as decimal strings.

    :param currencies: ``{minor-unit column: currency}`` (``{"amount_minor": "USD"}``); such a
        column is shown without its ``_minor`` suffix, as ``str(from_minor(value, currency))``
        (``"12.50"``); with no currency (nothing decided yet) the whole number stays as it is.
    :param from_minor: the ledger's ``ledger.api.from_minor``.
    """
    out = _row(row, exclude)
    for column, currency in (currencies or {}).items():
        value = out.pop(column, None)
        name = column.removesuffix("_minor")
        if value is None or currency is None or from_minor is None:
            out[name] = None if value is None else str(value)
        else:
            out[name] = str(from_minor(value, currency))
    return out


def case_ids_of(ctx: Context, person_id: int) -> list[int]:
    """The ids of the person's cases in this organisation (for ``person_data``)."""
    return list(ctx.session.scalars(select(Case.id).where(Case.org_id == ctx.org_id, Case.person_id == person_id).order_by(Case.id)))


# --- anonymisation -----------------------------------------------------------------------------


def due_on(case: Case, organisation: Organisation) -> date | None:
    """The day a closed case may be anonymised (its closing day plus the retention period), or
    ``None``: not closed, or the organisation keeps records until an administrator decides."""
    if case.status != CaseStatus.closed or case.closed_on is None or organisation.retention_months is None:
        return None
    return add_months(case.closed_on, organisation.retention_months)


def check_due(ctx: Context, case: Case) -> None:
    """Refuse (:class:`ActionRefused`) unless ``case`` may be anonymised today."""
    if case.anonymised_at is not None:
        raise ActionRefused(_("This case is already anonymised."))
    if case.status != CaseStatus.closed or case.closed_on is None:
        raise ActionRefused(_("Only a closed case can be anonymised."))
    months = ctx.organisation.retention_months
    if months is None:
        raise ActionRefused(_("The organisation has set no retention period: its closed cases are kept until an administrator sets one."))
    due = add_months(case.closed_on, months)
    if due > ctx.today:
        raise ActionRefused(_("The retention period of this case is not over: it can be anonymised from %(date)s.", date=due.isoformat()))


@dataclass(frozen=True)
class DueCase:
    """A closed case whose retention period is over, as the administration page lists it."""

    case_id: int
    person_id: int
    closed_on: date
    due_on: date


def cases_due(ctx: Context) -> list[DueCase]:
    """The organisation's closed, not yet anonymised cases whose retention period is over, oldest
    closing first (none when no retention period is set)."""
    months = ctx.organisation.retention_months
    if months is None:
        return []
    rows = ctx.session.execute(
        select(Case.id, Case.person_id, Case.closed_on)
        .where(
            Case.org_id == ctx.org_id,
            Case.status == CaseStatus.closed.value,
            Case.anonymised_at.is_(None),
            Case.closed_on.is_not(None),
            Case.closed_on <= ctx.today,
        )
        .order_by(Case.closed_on, Case.id)
    ).all()
    due = [DueCase(cid, pid, closed, add_months(closed, months)) for cid, pid, closed in rows]
    return [d for d in due if d.due_on <= ctx.today]


def anonymise_case(ctx: Context, case: Case) -> bool:
    """Remove what identifies the person from a closed case whose retention period is over,
    keeping what the statistics count (in the caller's transaction, not committed).

    The case loses its offence details and prisoner number; its goals their texts; its events
    their summaries and free-text payload values (dates, kinds, stages, outcomes and amounts stay);
    each installed module erases its own free text and files (``anonymise_case`` hook); the
    case's audit entries are redacted. When every case of the person is then anonymised, so is
    the person (:func:`anonymise_person`), with the relatives known only through them.

    :return: whether the person was anonymised too (``False``: another case of theirs is kept).
    :raises ActionRefused: the case is not closed, its retention period is not over, the
        organisation set none, or it is already anonymised.
    """
    check_due(ctx, case)
    session = ctx.session
    session.flush()
    case.offence = None
    case.prisoner_number = None
    case.anonymised_at = utcnow()
    session.execute(
        update(CaseGoal).where(CaseGoal.org_id == ctx.org_id, CaseGoal.case_id == case.id).values(description="", next_step=None)
    )
    _blank_events(ctx, case.id)
    ctx.registry.pm.hook.anonymise_case(ctx=ctx, case_id=case.id)
    session.flush()
    _redact(ctx, "case", [case.id])
    audit.record_changed(ctx, "case", case.id, {"anonymised_at": [None, audit.plain(case.anonymised_at)]})
    others = session.scalar(
        select(func.count()).select_from(Case).where(Case.org_id == ctx.org_id, Case.person_id == case.person_id, Case.anonymised_at.is_(None))
    )
    if others:
        return False
    person = persons.get_person(ctx, case.person_id)
    if person.anonymised_at is None:
        anonymise_person(ctx, person)
    return True


def anonymise_person(ctx: Context, person: Person, *, with_relatives: bool = True) -> None:
    """Remove what identifies ``person``: the name becomes :func:`anonymised_name`; the Khmer name,
    ID number, phone, village, commune and medical notes are emptied; the date of birth becomes
    1 July of its year (age bands stay); sex, district and province stay. Consent notes are
    emptied; the person's audit entries are redacted.

    With ``with_relatives``, a relative who has no case of their own and is linked to nobody but
    the person and the person's other such relatives is anonymised too: known only as this
    person's family, they are identified by them.
    """
    relatives = _relatives_known_only_through(ctx, person) if with_relatives else []
    person.name = anonymised_name(person.id)
    for name in ("name_km", "id_number", "phone", "village", "commune", "medical_notes"):
        setattr(person, name, None)
    if person.date_of_birth is not None:
        person.date_of_birth = date(person.date_of_birth.year, 7, 1)
    person.anonymised_at = utcnow()
    ctx.session.execute(update(Consent).where(Consent.org_id == ctx.org_id, Consent.person_id == person.id).values(note=None))
    ctx.session.flush()
    _redact(ctx, "person", [person.id])
    audit.record_changed(ctx, "person", person.id, {"anonymised_at": [None, audit.plain(person.anonymised_at)]})
    for relative in relatives:
        anonymise_person(ctx, relative, with_relatives=False)


def _relatives_known_only_through(ctx: Context, person: Person) -> list[Person]:
    links = ctx.session.execute(
        select(PersonLink.person_id, PersonLink.relative_id).where(
            PersonLink.org_id == ctx.org_id, or_(PersonLink.person_id == person.id, PersonLink.relative_id == person.id)
        )
    ).all()
    relative_ids = {a if b == person.id else b for a, b in links} - {person.id}
    if not relative_ids:
        return []
    with_cases = set(ctx.session.scalars(select(Case.person_id).where(Case.org_id == ctx.org_id, Case.person_id.in_(relative_ids))))
    family = (relative_ids - with_cases) | {person.id}
    their_links = ctx.session.execute(
        select(PersonLink.person_id, PersonLink.relative_id).where(
            PersonLink.org_id == ctx.org_id, or_(PersonLink.person_id.in_(relative_ids), PersonLink.relative_id.in_(relative_ids))
        )
    ).all()
    outside = {a for a, b in their_links if b not in family} | {b for a, b in their_links if a not in family}
    keep = relative_ids - with_cases - outside
    return list(ctx.session.scalars(
        select(Person).where(Person.org_id == ctx.org_id, Person.id.in_(keep), Person.anonymised_at.is_(None)).order_by(Person.id)
    ))


def anonymise_due(ctx: Context, progress: Callable[[int, int], None] | None = None) -> int:
    """Anonymise every case of the organisation whose retention period is over (in the caller's
    transaction: the caller commits once, so it is all or nothing).

    :param progress: called as ``progress(done, total)`` after each case.
    :return: how many cases were anonymised.
    """
    due = cases_due(ctx)
    count = 0
    for done, item in enumerate(due, start=1):
        # Locked and read again: an administrator who pressed the button at the same moment has
        # anonymised it already (PostgreSQL; SQLite's writing sessions are serialised anyway).
        case = ctx.session.scalar(
            select(Case).where(Case.id == item.case_id, Case.org_id == ctx.org_id).with_for_update(of=Case).execution_options(populate_existing=True)
        )
        if case is not None and case.anonymised_at is None:
            anonymise_case(ctx, case)
            count += 1
        if progress is not None:
            progress(done, len(due))
    return count


def erase_attachments(ctx: Context, attachment_ids: list[int]) -> int:
    """Erase the content of the organisation's attachments ``attachment_ids`` (their bytes are
    deleted; the row stays, named :data:`ERASED_FILENAME`, with its size, type and checksum).
    For a module's ``anonymise_case``. Returns how many had content left to erase."""
    if not attachment_ids:
        return 0
    ids = list(ctx.session.scalars(select(Attachment.id).where(Attachment.org_id == ctx.org_id, Attachment.id.in_(attachment_ids))))
    if not ids:
        return 0
    erased = ctx.session.execute(delete(AttachmentContent).where(AttachmentContent.attachment_id.in_(ids))).rowcount
    ctx.session.execute(update(Attachment).where(Attachment.id.in_(ids)).values(filename=ERASED_FILENAME))
    return erased or 0


def _redact(ctx: Context, record_type: str, record_ids: list[int]) -> None:
    """Replace the changes of the records' audit entries by :data:`REDACTED` (views have none)."""
    ctx.session.execute(
        update(AuditEntry.__table__)
        .where(
            AuditEntry.org_id == ctx.org_id,
            AuditEntry.record_type == record_type,
            AuditEntry.record_id.in_(record_ids),
            AuditEntry.action != AuditAction.viewed.value,
        )
        .values(changes=REDACTED)
    )
    for entry in [o for o in ctx.session.identity_map.values() if isinstance(o, AuditEntry)]:
        ctx.session.expire(entry)  # the session must not hold (or write back) the old values


# --- blanking an event's free text ---------------------------------------------------------------

_TOKEN = re.compile(r"^(?:[a-z0-9_]+|[A-Z]{3}|\d{4}-\d{2}-\d{2}|-?\d+(?:\.\d+)?)$")
"""A payload string that is a value of a choice, a currency, a date or a number, not free text."""
_FIGURE = re.compile(r"^(?:[A-Z]{3}|\d{4}-\d{2}-\d{2}|-?\d+(?:\.\d+)?)$")


def _is_choice(annotation: Any) -> bool:
    """Whether a payload field's type is a fixed set of values (``Literal``, an enumeration, a date,
    a number or a flag), possibly optional."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return True
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and all(_is_choice(a) for a in args)
    return isinstance(annotation, type) and (issubclass(annotation, (enum.Enum, date, datetime, int, float, bool)) or annotation.__name__ == "Decimal")


def blank_payload(payload: dict[str, Any], schema: type | None) -> dict[str, Any]:
    """The payload with its free text emptied: a field the kind's schema types as a choice, date,
    number or flag keeps its value; a text field keeps only a number, a date or a currency code;
    a field the schema does not know keeps only what looks like a choice (``lower_case``), a
    currency, a date or a number. Lists and nested objects are treated value by value."""
    fields = getattr(schema, "model_fields", {}) if schema is not None else {}

    def clean(value: Any, choice: bool, known_text: bool) -> Any:
        if isinstance(value, dict):
            return {k: clean(v, False, False) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, choice, known_text) for v in value]
        if not isinstance(value, str) or choice:
            return value
        pattern = _FIGURE if known_text else _TOKEN
        return value if pattern.match(value) else ""

    out = {}
    for key, value in (payload or {}).items():
        field = fields.get(key)
        choice = field is not None and _is_choice(field.annotation)
        out[key] = clean(value, choice, field is not None and not choice)
    return out


def _blank_events(ctx: Context, case_id: int) -> None:
    """Blank the summaries and free-text payload values of the case's events (Core UPDATEs: the
    ORM refuses to change an event, and this is the one sanctioned erasure)."""
    kinds = ctx.registry.event_kinds
    table = Event.__table__
    rows = ctx.session.execute(select(table.c.id, table.c.kind, table.c.summary, table.c.payload).where(table.c.case_id == case_id, table.c.org_id == ctx.org_id)).all()
    for event_id, kind, summary, payload in rows:
        kind_info = kinds.get(kind)
        cleaned = blank_payload(payload or {}, kind_info.schema if kind_info else None)
        if summary or cleaned != (payload or {}):
            ctx.session.execute(update(table).where(table.c.id == event_id).values(summary="", payload=cleaned))
    for event in [o for o in ctx.session.identity_map.values() if isinstance(o, Event) and o.case_id == case_id]:
        ctx.session.expire(event)
