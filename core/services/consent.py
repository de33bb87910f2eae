"""A person's consent: what they agreed to, when, and whether they withdrew it (docs/privacy.md).

A consent is a record of what happened, never edited: a withdrawal sets ``withdrawn_on`` (and who
recorded it, when) on the row, and consent given again is a new row. Each recording and each
withdrawal goes into the audit trail as a change of the person's record (``consent <id>.<field>``),
in the same transaction.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from core.context import Context
from core.errors import InvalidInput, RecordNotFound
from core.i18n import gettext as _
from core.models import Consent, ConsentMethod, ConsentPurpose, Person, utcnow
from core.schemas import LongText, _Input
from core.services import audit


class ConsentIn(_Input):
    """Consent given: to what, how, on which day, with an optional note."""

    purpose: ConsentPurpose = Field(title="Purpose")
    method: ConsentMethod = Field(title="How it was given")
    given_on: date = Field(title="Given on")
    note: LongText | None = Field(None, title="Note")


class WithdrawalIn(_Input):
    """Consent withdrawn on a day (default: today)."""

    withdrawn_on: date | None = Field(None, title="Withdrawn on")


class ConsentOut(BaseModel):
    """A consent as the API shows it; ``active`` says whether it holds today."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    person_id: int
    purpose: str
    method: str
    given_on: date
    note: str | None
    recorded_by_id: int | None
    withdrawn_on: date | None
    withdrawn_by_id: int | None
    active: bool = False


def has_consent(ctx: Context, person_id: int, purpose: ConsentPurpose | str, on: date | None = None) -> bool:
    """Whether the person (of the current organisation) had consented to ``purpose`` on ``on``
    (default today): consent given on or before that day and not withdrawn by then."""
    day = on or ctx.today
    found = ctx.session.scalar(
        select(Consent.id)
        .where(
            Consent.org_id == ctx.org_id,
            Consent.person_id == person_id,
            Consent.purpose == ConsentPurpose(purpose).value,
            Consent.given_on <= day,
            (Consent.withdrawn_on.is_(None)) | (Consent.withdrawn_on > day),
        )
        .limit(1)
    )
    return found is not None


def is_active(consent: Consent, on: date) -> bool:
    """Whether ``consent`` holds on ``on`` (given by then, not withdrawn by then)."""
    return consent.given_on <= on and (consent.withdrawn_on is None or consent.withdrawn_on > on)


def consents_of(ctx: Context, person_id: int) -> list[Consent]:
    """Every consent the person gave (current and withdrawn), by purpose, newest first."""
    return list(
        ctx.session.scalars(
            select(Consent)
            .where(Consent.org_id == ctx.org_id, Consent.person_id == person_id)
            .order_by(Consent.purpose, Consent.given_on.desc(), Consent.id.desc())
        )
    )


def get_consent(ctx: Context, person_id: int, consent_id: int) -> Consent:
    """The person's consent with this id in the current organisation, or :class:`RecordNotFound`."""
    consent = ctx.session.scalar(
        select(Consent)
        .where(Consent.id == consent_id, Consent.person_id == person_id, Consent.org_id == ctx.org_id)
        .with_for_update()  # two withdrawals at once: the second sees the first
    )
    if consent is None:
        raise RecordNotFound
    return consent


def record_consent(ctx: Context, person: Person, data: ConsentIn) -> Consent:
    """Record that ``person`` gave consent; the audit trail records it as a change of the person.

    :raises InvalidInput: the day is in the future.
    """
    if data.given_on > ctx.today:
        raise InvalidInput({"given_on": _("The date cannot be in the future.")})
    consent = Consent(
        org_id=ctx.org_id,
        person_id=person.id,
        purpose=data.purpose.value,
        method=data.method.value,
        given_on=data.given_on,
        note=data.note,
        recorded_by_id=ctx.user.id or None,
    )
    ctx.session.add(consent)
    ctx.session.flush()
    given = {"purpose": data.purpose, "method": data.method, "given_on": data.given_on, "note": data.note}
    audit.record_changed(
        ctx, "person", person.id, {f"consent {consent.id}.{k}": [None, audit.plain(v)] for k, v in given.items() if v not in (None, "")}
    )
    return consent


def withdraw_consent(ctx: Context, person: Person, consent: Consent, data: WithdrawalIn) -> Consent:
    """Record that the person withdrew ``consent`` on ``data.withdrawn_on`` (default today).

    The row stays, with the day and who recorded the withdrawal; consent given again later is a
    new row (:func:`record_consent`).

    :raises InvalidInput: already withdrawn; the day is in the future or before the consent was given.
    """
    day = data.withdrawn_on or ctx.today
    if consent.withdrawn_on is not None:
        raise InvalidInput({"withdrawn_on": _("This consent was already withdrawn.")})
    if day > ctx.today:
        raise InvalidInput({"withdrawn_on": _("The date cannot be in the future.")})
    if day < consent.given_on:
        raise InvalidInput({"withdrawn_on": _("Consent cannot be withdrawn before the day it was given.")})
    consent.withdrawn_on = day
    consent.withdrawn_by_id = ctx.user.id or None
    consent.withdrawn_at = utcnow()
    ctx.session.flush()
    audit.record_changed(ctx, "person", person.id, {f"consent {consent.id}.withdrawn_on": [None, day.isoformat()]})
    return consent


def consent_out(consent: Consent, today: date) -> ConsentOut:
    """The consent for the API, with whether it holds ``today``."""
    out = ConsentOut.model_validate(consent)
    out.active = is_active(consent, today)
    return out
