"""Persons and their family links."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select

from core.auth import SENSITIVE
from core.context import Context
from core.errors import ActionRefused, RecordNotFound
from core.i18n import gettext as _
from core.models import INVERSE_RELATION, Person, PersonLink, Relation
from core.schemas import SENSITIVE_FIELDS, PersonIn, PersonLinkIn
from core.services import audit
from core.services.columns import check_lengths
from core.services.search import prefix_match


def get_person(ctx: Context, person_id: int) -> Person:
    """The person with this id in the current organisation, or :class:`RecordNotFound`."""
    person = ctx.session.scalar(select(Person).where(Person.id == person_id, Person.org_id == ctx.org_id))
    if person is None:
        raise RecordNotFound
    return person


def search_persons(ctx: Context, q: str = "", limit: int = 50, offset: int = 0) -> tuple[list[Person], bool]:
    """Persons whose Latin or Khmer name starts with ``q`` (or whose ID number is ``q``).

    Returns one page and whether more follow; no total is counted (see docs/decisions.md).
    """
    query = select(Person).where(Person.org_id == ctx.org_id)
    if q.strip():
        query = query.where(
            or_(
                prefix_match(ctx.session, Person.name, q),
                prefix_match(ctx.session, Person.name_km, q),
                Person.id_number == q.strip(),
            )
        )
    rows = list(ctx.session.scalars(query.order_by(Person.name, Person.id).limit(limit + 1).offset(offset)))
    return rows[:limit], len(rows) > limit


def writable_values(ctx: Context, data: BaseModel, record_type: str) -> dict[str, Any]:
    """The values of ``data`` a save writes: every field, except a sensitive one (medical notes,
    offence) that was not sent, which keeps its stored value. Setting a sensitive field takes
    ``records.sensitive``; without it the field is refused (422), never silently dropped."""
    values = data.model_dump()
    for name in SENSITIVE_FIELDS[record_type] & set(values):
        if name not in data.model_fields_set:
            del values[name]
        elif not ctx.user.can(SENSITIVE):
            raise ActionRefused(_("Your role may not see or change this field."), name)
    return values


def create_person(ctx: Context, data: PersonIn) -> Person:
    """Add a person; the audit trail records who did, with the values given."""
    values = writable_values(ctx, data, "person")
    check_lengths(Person, values)
    person = Person(org_id=ctx.org_id, **values)
    ctx.session.add(person)
    ctx.session.flush()
    audit.record_created(ctx, "person", person.id, values)
    return person


def update_person(ctx: Context, person: Person, data: PersonIn) -> Person:
    """Replace the person's details; the audit trail records the fields that changed (old, new).

    The medical notes change only when sent (and only for holders of ``records.sensitive``)."""
    values = writable_values(ctx, data, "person")
    check_lengths(Person, values)
    before = audit.snapshot(person, list(values))
    for name, value in values.items():
        setattr(person, name, value)
    ctx.session.flush()
    audit.record_changed(ctx, "person", person.id, audit.differences(before, audit.snapshot(person, list(values))))
    return person


def family_of(ctx: Context, person: Person) -> list[tuple[Relation, Person, int]]:
    """The person's family: ``(relation of the relative to the person, relative, link id)``.

    Links are stored once; a link recorded from the other side is shown with the inverse relation.
    """
    return families_of(ctx, [person.id]).get(person.id, [])


def families_of(ctx: Context, person_ids: Iterable[int]) -> dict[int, list[tuple[Relation, Person, int]]]:
    """:func:`family_of` for many persons in two queries: ``{person id: family}`` (a person
    without family is missing from the answer). For a page that lists people with their family."""
    ids = set(person_ids)
    family: dict[int, list[tuple[Relation, Person, int]]] = {}
    if not ids:
        return family
    forward = ctx.session.execute(
        select(PersonLink, Person)
        .join(Person, Person.id == PersonLink.relative_id)
        .where(PersonLink.person_id.in_(ids), PersonLink.org_id == ctx.org_id)
    ).all()
    backward = ctx.session.execute(
        select(PersonLink, Person)
        .join(Person, Person.id == PersonLink.person_id)
        .where(PersonLink.relative_id.in_(ids), PersonLink.org_id == ctx.org_id)
    ).all()
    for link, relative in forward:
        family.setdefault(link.person_id, []).append((Relation(link.relation), relative, link.id))
    for link, relative in backward:
        family.setdefault(link.relative_id, []).append((INVERSE_RELATION[Relation(link.relation)], relative, link.id))
    return {pid: sorted(rows, key=lambda f: (f[0].value, f[1].name)) for pid, rows in family.items()}


def link_family(ctx: Context, person: Person, data: PersonLinkIn) -> PersonLink:
    """Record that ``data.relative_id`` is the person's ``data.relation``."""
    if data.relative_id == person.id:
        raise ActionRefused(_("A person cannot be linked to themselves."), "relative_id")
    try:
        get_person(ctx, data.relative_id)
    except RecordNotFound:
        raise ActionRefused(_("Choose a person of this organisation."), "relative_id") from None
    existing = ctx.session.scalar(
        select(PersonLink.id).where(
            or_(
                (PersonLink.person_id == person.id) & (PersonLink.relative_id == data.relative_id),
                (PersonLink.person_id == data.relative_id) & (PersonLink.relative_id == person.id),
            )
        )
    )
    if existing is not None:
        raise ActionRefused(_("These two persons are already linked."), "relative_id")
    link = PersonLink(org_id=ctx.org_id, person_id=person.id, relative_id=data.relative_id, relation=data.relation)
    ctx.session.add(link)
    ctx.session.flush()
    return link
