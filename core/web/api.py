"""The JSON API under ``/api/``: bearer-token authentication, scoped to the token's organisation.

Get a token with ``POST /api/tokens`` (email, password, optionally the organisation's short name),
then send ``Authorization: Bearer <token>``. The OpenAPI schema is at ``/schema/openapi.json``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import litestar
from litestar import Request, Router
from litestar.exceptions import NotAuthorizedException
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from sqlalchemy import select

from core import auth
from core.auth import MAX_ID, PUBLIC, SENSITIVE
from core.context import Context
from core.models import Case, Organisation
from core.schemas import (
    ApiError, CaseIn, CaseOut, EventIn, EventOut, GoalIn, GoalOut, GoalUpdateIn, Page, PersonIn, PersonOut, PlanAreaOut, ReadinessOut, TokenIn,
)
from core.services import audit, cases, events, persons, readiness
from core.web.deps import Ctx, Db, origin_of

#: the refusals every operation may answer, documented in the schema so clients (and the fuzz
#: run, tests/fuzz) know them; 400 (a malformed request) Litestar documents by itself
REFUSALS = {
    401: ResponseSpec(ApiError, description="No valid bearer token"),
    403: ResponseSpec(ApiError, description="The token's role may not do this"),
    404: ResponseSpec(ApiError, description="No such record in the token's organisation"),
    422: ResponseSpec(ApiError, description="The record breaks a rule; `errors` names the fields"),
}
get = partial(litestar.get, sync_to_thread=True, responses=REFUSALS)
post = partial(litestar.post, sync_to_thread=True, responses=REFUSALS)
put = partial(litestar.put, sync_to_thread=True, responses=REFUSALS)
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_ID)]
StaffId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]


def _case_out(ctx: Context, case: Case) -> CaseOut:
    """The case as the API shows it; the offence details only to holders of ``records.sensitive``."""
    values = {**{c: getattr(case, c) for c in CaseOut.model_fields if c != "person_name"}, "person_name": case.person.name}
    return CaseOut.for_reader(values, ctx.user.can(SENSITIVE))


def _person_out(ctx: Context, person: object) -> PersonOut:
    """The person as the API shows them; the medical notes only to holders of ``records.sensitive``."""
    return PersonOut.for_reader(person, ctx.user.can(SENSITIVE))


@post("/tokens", opt={"permission": PUBLIC}, status_code=201)
def create_token(request: Request[Any, Any, Any], data: Annotated[TokenIn, Body()], db: Db) -> dict[str, str]:
    """Exchange an email and password for a bearer token valid 30 days (throttled as sign-in is)."""
    user = auth.authenticate(db, data.email, data.password, origin_of(request).ip, request.app.state.login_throttle)
    if user is None or not user.memberships:
        raise NotAuthorizedException("wrong email or password")
    org_ids = {m.org_id: m for m in user.memberships}
    if data.organisation:
        org_id = db.scalar(select(Organisation.id).where(Organisation.slug == data.organisation))
        if org_id not in org_ids:
            raise NotAuthorizedException("not a member of that organisation")
    else:
        org_id = min(org_ids)
    token = auth.issue_api_token(db, user, org_id, "api")
    db.commit()
    return {"token": token, "token_type": "bearer"}


@get("/persons", opt={"permission": "persons.view"})
def list_persons(ctx: Ctx, q: FromQuery[str] = "", limit: Limit = 50, offset: Offset = 0) -> Page[PersonOut]:
    rows, has_more = persons.search_persons(ctx, q, limit, offset)
    return Page[PersonOut](items=[_person_out(ctx, p) for p in rows], limit=limit, offset=offset, has_more=has_more)


@post("/persons", opt={"permission": "persons.edit"})
def create_person(ctx: Ctx, data: Annotated[PersonIn, Body()]) -> PersonOut:
    person = persons.create_person(ctx, data)
    ctx.session.commit()
    return _person_out(ctx, person)


@get("/persons/{person_id:int}", opt={"permission": "persons.view"})
def get_person(ctx: Ctx, person_id: FromPath[int]) -> PersonOut:
    person = _person_out(ctx, persons.get_person(ctx, person_id))
    audit.record_view(ctx, "person", person_id)
    return person


@get("/cases", opt={"permission": "cases.view"})
def list_cases(ctx: Ctx, q: FromQuery[str] = "", status: FromQuery[str | None] = None, case_manager: StaffId = None, prison: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0) -> Page[CaseOut]:
    rows, has_more, _total = cases.search_cases(ctx, q, status, case_manager, prison, limit, offset)
    found = {c.id: c for c in ctx.session.scalars(select(Case).where(Case.id.in_([r.id for r in rows])))}
    return Page[CaseOut](items=[_case_out(ctx, found[r.id]) for r in rows], limit=limit, offset=offset, has_more=has_more)


@post("/cases", opt={"permission": "cases.edit"})
def create_case(ctx: Ctx, data: Annotated[CaseIn, Body()]) -> CaseOut:
    case = cases.create_case(ctx, data)
    ctx.session.commit()
    return _case_out(ctx, case)


@get("/cases/{case_id:int}", opt={"permission": "cases.view"})
def get_case(ctx: Ctx, case_id: FromPath[int]) -> CaseOut:
    case = _case_out(ctx, cases.get_case(ctx, case_id))
    audit.record_view(ctx, "case", case_id)
    return case


@get("/cases/{case_id:int}/events", opt={"permission": "cases.view"})
def list_events(ctx: Ctx, case_id: FromPath[int], kind: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0) -> Page[EventOut]:
    case = cases.get_case(ctx, case_id)
    rows, has_more = events.timeline(ctx, case, kind, limit, offset)
    items = [EventOut.model_validate({**r._mapping, "case_id": case.id}) for r in rows]
    return Page[EventOut](items=items, limit=limit, offset=offset, has_more=has_more)


@post("/cases/{case_id:int}/events", opt={"permission": "events.record"})
def create_event(ctx: Ctx, case_id: FromPath[int], data: Annotated[EventIn, Body()]) -> EventOut:
    case = cases.get_case(ctx, case_id)
    event = events.record_event(
        ctx, case, data.kind, data.occurred_on, summary=data.summary, payload=data.payload, corrects_id=data.corrects_id
    )
    ctx.session.commit()
    return EventOut.model_validate(event)


@get("/cases/{case_id:int}/goals", opt={"permission": "cases.view"})
def list_goals(ctx: Ctx, case_id: FromPath[int]) -> list[GoalOut]:
    """The goals of the case's release plan, by area (docs/release_plan.md)."""
    return [GoalOut.model_validate(g) for g in cases.goals(ctx, cases.get_case(ctx, case_id))]


@post("/cases/{case_id:int}/goals", opt={"permission": "cases.edit"}, status_code=201)
def create_goal(ctx: Ctx, case_id: FromPath[int], data: Annotated[GoalIn, Body()]) -> GoalOut:
    goal = cases.add_goal(ctx, cases.get_case(ctx, case_id), data)
    ctx.session.commit()
    return GoalOut.model_validate(goal)


@put("/cases/{case_id:int}/goals/{goal_id:int}", opt={"permission": "cases.edit"})
def update_goal(ctx: Ctx, case_id: FromPath[int], goal_id: FromPath[int], data: Annotated[GoalUpdateIn, Body()]) -> GoalOut:
    """Replace a goal's description, state and next step (a change of state goes on the timeline)."""
    case = cases.get_case(ctx, case_id)
    goal = cases.update_goal(ctx, case, cases.get_goal(ctx, case, goal_id), data)
    ctx.session.commit()
    return GoalOut.model_validate(goal)


@get("/releases", opt={"permission": "cases.view"})
def list_releases(ctx: Ctx, days: Annotated[int, QueryParameter(ge=1, le=366)] = 90, case_manager: StaffId = None) -> list[ReadinessOut]:
    """Cases still inside whose expected release is in the next ``days`` days (or passed without a
    release), soonest first, with their plan's areas and open goals."""
    return [
        ReadinessOut(
            case_id=r.case_id, person_name=r.person_name, expected_release=r.expected_release, days_left=r.days_left,
            areas=[PlanAreaOut(area=a.area.value, state=a.state, done=a.done) for a in r.areas],
            open_goals=[{"area": area.value, "description": text} for area, text in r.open_goals],
        )
        for r in readiness.releases(ctx, days, case_manager)
    ]


router = Router(
    path="/api",
    route_handlers=[
        create_token, list_persons, create_person, get_person, list_cases, create_case, get_case, list_events, create_event,
        list_goals, create_goal, update_goal, list_releases,
    ],
    tags=["api"],
)

__all__ = ["router"]
