"""A person's consent: what they agreed to, when, and whether they withdrew it (docs/privacy.md)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.context import Context
from core.models import Consent, ConsentPurpose


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
