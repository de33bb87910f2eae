"""Data protection pages and API: a person's consents, their copy of everything held about them,
and anonymising closed cases after the retention period (docs/privacy.md).

The JSON handlers live here on paths under ``/api/``, so the bearer-token authentication and the
JSON error bodies apply to them as to :mod:`core.web.api`'s (both decided by the path).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

import litestar
from litestar import Request, Response
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from core.context import Context
from core.models import ConsentMethod, ConsentPurpose, Person
from core.services import audit, persons, privacy
from core.services.consent import (
    ConsentIn,
    ConsentOut,
    WithdrawalIn,
    consent_out,
    consents_of,
    get_consent,
    is_active,
    record_consent,
    withdraw_consent,
)
from core.validation import parse
from core.web.api import REFUSALS
from core.web.deps import Ctx
from core.web.forms import Form, option_label
from core.web.rendering import act, render, see_other

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True)


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(m.value, option_label(m.value)) for m in enum]


def _consent_context(ctx: Context, person: Person, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                     withdraw_errors: dict[int, dict[str, str]] | None = None) -> dict[str, Any]:
    rows = consents_of(ctx, person.id)
    current = [c for c in rows if is_active(c, ctx.today)]
    shown = {c.id for c in current}  # a withdrawal form is shown beside each current consent
    return {
        "person": person,
        "current": current,
        "past": [c for c in rows if not is_active(c, ctx.today)],
        "withdraw_banner": [m for cid, errs in (withdraw_errors or {}).items() if cid not in shown for m in errs.values()],
        "values": values or {"given_on": ctx.today.isoformat()},
        "errors": errors or {},
        "withdraw_errors": withdraw_errors or {},
        "purposes": _choices(ConsentPurpose),
        "methods": _choices(ConsentMethod),
        "today": ctx.today,
    }


def _consent_page(ctx: Context, person: Person, status_code: int = 200, **context: Any) -> Template:
    return render(ctx, "persons/consent.html", status_code, **_consent_context(ctx, person, **context))


# --- consent: pages --------------------------------------------------------------------------------


@get("/persons/{person_id:int}/consents", opt={"permission": "persons.view"})
def consent_page(request: Request[Any, Any, Any], ctx: Ctx, person_id: FromPath[int]) -> Template:
    """The person's consents (current and withdrawn) and the forms to record or withdraw one; for
    htmx (the person page loads it into its "Consent" section), the section alone."""
    person = persons.get_person(ctx, person_id)
    if request.headers.get("hx-request"):
        context = _consent_context(ctx, person)
        return Template("persons/_consent.html", context={"user": ctx.user, **context})
    return _consent_page(ctx, person)


@post("/persons/{person_id:int}/consents", opt={"permission": "persons.consent"})
def consent_record(ctx: Ctx, person_id: FromPath[int], data: Form) -> Response[Any]:
    person = persons.get_person(ctx, person_id)
    return act(ctx, lambda: record_consent(ctx, person, parse(ConsentIn, data)), f"/persons/{person.id}#consent",
               lambda errors: _consent_page(ctx, person, 422, values=data, errors=errors))


@post("/persons/{person_id:int}/consents/{consent_id:int}/withdraw", opt={"permission": "persons.consent"})
def consent_withdraw(ctx: Ctx, person_id: FromPath[int], consent_id: FromPath[int], data: Form) -> Response[Any]:
    person = persons.get_person(ctx, person_id)
    consent = get_consent(ctx, person.id, consent_id)
    return act(ctx, lambda: withdraw_consent(ctx, person, consent, parse(WithdrawalIn, data)), f"/persons/{person.id}#consent",
               lambda errors: _consent_page(ctx, person, 422, withdraw_errors={consent_id: errors}))


# --- consent: JSON API -----------------------------------------------------------------------------


@get("/api/persons/{person_id:int}/consents", opt={"permission": "persons.view"}, responses=REFUSALS, tags=["api"])
def api_consents(ctx: Ctx, person_id: FromPath[int]) -> list[ConsentOut]:
    """The person's consents, current and withdrawn (``active``: it holds today)."""
    person = persons.get_person(ctx, person_id)
    return [consent_out(c, ctx.today) for c in consents_of(ctx, person.id)]


@post("/api/persons/{person_id:int}/consents", opt={"permission": "persons.consent"}, status_code=201, responses=REFUSALS, tags=["api"])
def api_record_consent(ctx: Ctx, person_id: FromPath[int], data: Annotated[ConsentIn, Body()]) -> ConsentOut:
    """Record consent the person gave (422 when ``given_on`` is in the future)."""
    consent = record_consent(ctx, persons.get_person(ctx, person_id), data)
    ctx.session.commit()
    return consent_out(consent, ctx.today)


@post("/api/persons/{person_id:int}/consents/{consent_id:int}/withdraw", opt={"permission": "persons.consent"}, status_code=200,
      responses=REFUSALS, tags=["api"])
def api_withdraw_consent(ctx: Ctx, person_id: FromPath[int], consent_id: FromPath[int], data: Annotated[WithdrawalIn, Body()]) -> ConsentOut:
    """Record that the person withdrew a consent (default today; 422 when already withdrawn, in
    the future or before it was given). The consent stays on record."""
    person = persons.get_person(ctx, person_id)
    consent = withdraw_consent(ctx, person, get_consent(ctx, person.id, consent_id), data)
    ctx.session.commit()
    return consent_out(consent, ctx.today)


# --- a person's copy of their data ---------------------------------------------------------------


@get("/persons/{person_id:int}/export.json", opt={"permission": "persons.export_all"})
def person_export(ctx: Ctx, person_id: FromPath[int]) -> Response[bytes]:
    """Everything held about the person (a data-subject access request), as a JSON download; the
    download is recorded in the audit trail first (and refused when it cannot be)."""
    person = persons.get_person(ctx, person_id)
    body = json.dumps(privacy.export_person(ctx, person), ensure_ascii=False, indent=2, default=str).encode()
    audit.record_download(ctx, "person", person.id, "everything", "json")
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="person-{person.id}.json"', "Cache-Control": "no-store"},
    )


# --- anonymisation -------------------------------------------------------------------------------


def _anonymise_page(ctx: Context, done: int | None = None) -> Template:
    return render(ctx, "admin/privacy.html", due=privacy.cases_due(ctx), retention=ctx.organisation.retention_months, done=done)


@get("/admin/privacy", opt={"permission": "privacy.anonymise"})
def anonymise_page(ctx: Ctx, done: FromQuery[int | None] = None) -> Template:
    """The closed cases whose retention period is over, with the button that anonymises them."""
    return _anonymise_page(ctx, done=done)


@post("/admin/privacy/anonymise", opt={"permission": "privacy.anonymise"})
def anonymise_now(ctx: Ctx) -> Response[Any]:
    """Anonymise every due case, in one transaction: all of them or none."""
    count = privacy.anonymise_due(ctx)
    ctx.session.commit()
    return see_other(f"/admin/privacy?done={count}")


ROUTES = [
    consent_page, consent_record, consent_withdraw, api_consents, api_record_consent, api_withdraw_consent, person_export,
    anonymise_page, anonymise_now,
]
