"""Core pages: sign-in, dashboard, persons, cases and their timeline, administration.

Handlers are thin: read the input, call one service, commit once, redirect (post/redirect/get) or
re-render the form with field-level messages.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

import litestar
from litestar import Request, Response
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core import auth
from core.auth import PUBLIC, CurrentUser
from core.context import Context
from core.errors import ActionRefused, RecordNotFound
from core.i18n import LOCALES
from core.i18n import gettext as _
from core.models import CaseStatus, CloseReason, GoalArea, GoalState, Relation, Role, Sex, User
from core.schemas import CaseEditIn, CaseIn, DataProtectionIn, EventIn, FollowUpPolicyIn, GoalIn, GoalUpdateIn, PersonIn, PersonLinkIn, StatusChangeIn
from core.services import admin, audit, cases, dashboard, events, exports, persons, readiness
from core.services import followups
from core.validation import parse
from core.web.forms import Form, fields_of, option_label, split_payload
from core.web.account import ROUTES as ACCOUNT_ROUTES
from core.web.account import set_session_cookie, signed_out
from core.web.deps import Ctx, Db, origin_of
from core.web.readiness import ROUTES as READINESS_ROUTES
from core.web.followups import ROUTES as FOLLOW_UP_ROUTES
from core.web.programme import ROUTES as PROGRAMME_ROUTES
from core.web.imports import ROUTES as IMPORT_ROUTES
from core.web.privacy import ROUTES as PRIVACY_ROUTES
from core.web.reports import ROUTES as REPORT_ROUTES
from core.web.tables import table_download
from core.web.rendering import act, render, see_other

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True, status_code=303)
PAGE_SIZE = 50


def _choices(enum: type, values: list[Any] | None = None) -> list[tuple[str, str]]:
    return [(m.value, option_label(m.value)) for m in (values if values is not None else list(enum))]


# --- sign in, language, organisation -------------------------------------------------------------


@get("/login", opt={"permission": PUBLIC})
def login_page(next: FromQuery[str] = "/") -> Template:  # noqa: A002 - the query parameter's name
    return Template("login.html", context={"next": next, "errors": {}, "email": ""})


@post("/login", opt={"permission": PUBLIC})
def login(request: Request[Any, Any, Any], data: Form, db: Db) -> Response[Any]:
    email = str(data.get("email", ""))
    settings = request.app.state.settings
    origin = origin_of(request)
    user = auth.authenticate(db, email, str(data.get("password", "")), origin.ip, request.app.state.login_throttle)
    memberships = [] if user is None else sorted(user.memberships, key=lambda m: m.org_id)
    if user is None or not memberships:
        return Template(
            "login.html",
            context={"next": data.get("next", "/"), "email": email, "errors": {"__all__": _("Wrong email or password, or the account is locked for a while.")}},
            status_code=400,
        )
    token = auth.start_session(
        db, user, memberships[0].org_id, settings.session_hours, settings.session_idle_minutes, origin.ip, origin.user_agent
    )
    db.commit()
    target = str(data.get("next") or "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = see_other(target)
    set_session_cookie(response, settings, token)
    return response


@post("/logout", opt={"permission": "account"})
def logout(request: Request[Any, Any, Any], db: Db) -> Response[Any]:
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        auth.end_session(db, token)
        db.commit()
    return signed_out(request)


@post("/language", opt={"permission": PUBLIC})
def set_language(request: Request[Any, Any, Any], data: Form, db: Db) -> Response[Any]:
    """Pick the interface language: stored on the user when signed in, else in a cookie."""
    locale = data.get("locale") if data.get("locale") in LOCALES else "en"
    user: CurrentUser | None = request.scope.get("user")
    if user is not None:
        row = db.get(User, user.id)
        assert row is not None
        row.locale = locale
        db.commit()
    back = str(data.get("next") or "/")
    response = see_other(back if back.startswith("/") and not back.startswith("//") else "/")
    response.set_cookie(
        auth.LANGUAGE_COOKIE, str(locale), path="/", max_age=365 * 86400, samesite="lax", httponly=True,
        secure=request.app.state.settings.secure_cookies,
    )
    return response


@post("/organisation", opt={"permission": "account"})
def switch_organisation(request: Request[Any, Any, Any], data: Form, ctx: Ctx) -> Response[Any]:
    """Work in another organisation the user belongs to."""
    try:
        org_id = int(data.get("org_id", ""))
    except ValueError:
        org_id = -1
    if org_id not in {m.id for m in ctx.user.memberships}:
        raise ActionRefused(_("You are not on the staff of that organisation."), "org_id")
    auth.switch_session_org(ctx.session, request.cookies[auth.SESSION_COOKIE], org_id)
    ctx.session.commit()
    return see_other("/")


# --- dashboard ---------------------------------------------------------------------------------


@get("/", opt={"permission": "dashboard.view"})
def dashboard_page(ctx: Ctx) -> Template:
    mine = ctx.user.id if ctx.user.role == Role.case_manager else None
    panels = [p for p in ctx.hooks.dashboard_panels(ctx.organisation) if ctx.user.can(p.permission)]
    rendered = [html for html in (p.render(ctx) for p in panels) if html]
    return render(
        ctx,
        "dashboard.html",
        mine=mine,
        counts=dashboard.status_counts(ctx, mine),
        my_cases=dashboard.caseload(ctx, ctx.user.id) if mine else [],
        releases=readiness.by_window(readiness.releases(ctx, 90, mine)),
        windows=readiness.WINDOWS,
        follow_ups=dashboard.follow_ups_due(ctx, mine),
        escalated=followups.escalated_to_me(ctx),
        panels=rendered,
        statuses=list(CaseStatus),
    )


# --- persons -----------------------------------------------------------------------------------


@get("/persons", opt={"permission": "persons.view"})
def person_list(request: Request[Any, Any, Any], ctx: Ctx, q: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    page = max(page, 1)
    rows, has_more = persons.search_persons(ctx, q, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    context = {"rows": rows, "q": q, "page": page, "has_more": has_more, "query": urlencode({"q": q}), "can_export": ctx.user.can("data.export")}
    if request.htmx:  # type: ignore[attr-defined]
        return Template("persons/_rows.html", context=context)
    return render(ctx, "persons/list.html", **context)


def _person_download(ctx: Context, q: str, fmt: str) -> Response[Any]:
    """Every person the list shows for ``q`` (not just one page), as CSV or Excel, with the
    columns of an import (docs/import.md)."""
    header, rows = exports.person_table(ctx, q)
    audit.record_export(ctx, "person", {"q": q}, fmt)
    return table_download(f"persons-{ctx.user.org_slug}", header, rows, fmt)


@get("/persons.csv", opt={"permission": "data.export"})
def person_csv(ctx: Ctx, q: FromQuery[str] = "") -> Response[Any]:
    return _person_download(ctx, q, "csv")


@get("/persons.xlsx", opt={"permission": "data.export"})
def person_xlsx(ctx: Ctx, q: FromQuery[str] = "") -> Response[Any]:
    return _person_download(ctx, q, "xlsx")


def _person_form(ctx: Context, person: Any, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    return render(
        ctx, "persons/form.html", status_code, person=person, values=values, errors=errors, sexes=_choices(Sex)
    )


@get("/persons/new", opt={"permission": "persons.edit"})
def person_new(ctx: Ctx) -> Template:
    return _person_form(ctx, None, {}, {})


@post("/persons", opt={"permission": "persons.edit"})
def person_create(ctx: Ctx, data: Form) -> Response[Any]:
    return act(ctx, lambda: persons.create_person(ctx, parse(PersonIn, data)), lambda person: f"/persons/{person.id}",
               lambda errors: _person_form(ctx, None, data, errors, 422))


@get("/persons/{person_id:int}", opt={"permission": "persons.view"})
def person_detail(ctx: Ctx, person_id: FromPath[int]) -> Template:
    person = persons.get_person(ctx, person_id)
    audit.record_view(ctx, "person", person.id)
    return render(
        ctx,
        "persons/detail.html",
        person=person,
        family=persons.family_of(ctx, person),
        person_cases=cases.cases_of_person(ctx, person.id),
        relations=_choices(Relation),
        errors={},
    )


@get("/persons/{person_id:int}/edit", opt={"permission": "persons.edit"})
def person_edit(ctx: Ctx, person_id: FromPath[int]) -> Template:
    person = persons.get_person(ctx, person_id)
    values = {c: getattr(person, c) for c in PersonIn.model_fields}
    return _person_form(ctx, person, values, {})


@post("/persons/{person_id:int}", opt={"permission": "persons.edit"})
def person_update(ctx: Ctx, person_id: FromPath[int], data: Form) -> Response[Any]:
    person = persons.get_person(ctx, person_id)
    return act(ctx, lambda: persons.update_person(ctx, person, parse(PersonIn, data)), f"/persons/{person.id}",
               lambda errors: _person_form(ctx, person, data, errors, 422))


@get("/persons/lookup", opt={"permission": "persons.view"})
def person_lookup(ctx: Ctx, q: FromQuery[str] = "", field: FromQuery[str] = "person_id") -> Template:
    """htmx: persons matching ``q`` as choices for a person field."""
    rows, _more = persons.search_persons(ctx, q, 10) if q.strip() else ([], False)
    return Template("persons/_lookup.html", context={"rows": rows, "field": field})


@post("/persons/{person_id:int}/family", opt={"permission": "persons.edit"})
def person_link(ctx: Ctx, person_id: FromPath[int], data: Form) -> Response[Any]:
    person = persons.get_person(ctx, person_id)

    def refused(errors: dict[str, str]) -> Template:
        return render(
            ctx,
            "persons/detail.html",
            422,
            person=person,
            family=persons.family_of(ctx, person),
            person_cases=cases.cases_of_person(ctx, person.id),
            relations=_choices(Relation),
            errors=errors,
        )

    return act(ctx, lambda: persons.link_family(ctx, person, parse(PersonLinkIn, data)), f"/persons/{person.id}#family", refused)


# --- cases -------------------------------------------------------------------------------------


@get("/cases", opt={"permission": "cases.view"})
def case_list(request: Request[Any, Any, Any], ctx: Ctx, q: FromQuery[str] = "", status: FromQuery[str] = "", case_manager: FromQuery[str] = "", prison: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    page = max(page, 1)
    # A string: the filter form sends ``case_manager=`` for "All", which an int parameter refuses.
    manager_id = int(case_manager) if case_manager.strip().isdecimal() else None
    rows, has_more, total = cases.search_cases(
        ctx, q, status or None, manager_id, prison or None, PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    filters = {"q": q, "status": status, "case_manager": manager_id or "", "prison": prison}
    context = {
        "rows": rows,
        "page": page,
        "has_more": has_more,
        "total": total,
        "capped": total > cases.COUNT_CAP,
        "cap": cases.COUNT_CAP,
        "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "can_export": ctx.user.can("data.export"),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return Template("cases/_rows.html", context=context)
    return render(
        ctx,
        "cases/list.html",
        statuses=list(CaseStatus),
        managers=cases.case_managers(ctx),
        prisons=cases.prisons(ctx),
        **context,
    )


def _case_download(ctx: Context, q: str, status: str, case_manager: str, prison: str, fmt: str) -> Response[Any]:
    """Every case the list shows for these filters, as CSV or Excel, with the columns of an import."""
    manager_id = int(case_manager) if case_manager.strip().isdecimal() else None
    header, rows = exports.case_table(ctx, q, status or None, manager_id, prison or None)
    audit.record_export(ctx, "case", {"q": q, "status": status, "case_manager": manager_id, "prison": prison}, fmt)
    return table_download(f"cases-{ctx.user.org_slug}", header, rows, fmt)


@get("/cases.csv", opt={"permission": "data.export"})
def case_csv(ctx: Ctx, q: FromQuery[str] = "", status: FromQuery[str] = "", case_manager: FromQuery[str] = "", prison: FromQuery[str] = "") -> Response[Any]:
    return _case_download(ctx, q, status, case_manager, prison, "csv")


@get("/cases.xlsx", opt={"permission": "data.export"})
def case_xlsx(ctx: Ctx, q: FromQuery[str] = "", status: FromQuery[str] = "", case_manager: FromQuery[str] = "", prison: FromQuery[str] = "") -> Response[Any]:
    return _case_download(ctx, q, status, case_manager, prison, "xlsx")


def _case_form(ctx: Context, case: Any, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    person = None
    person_id = values.get("person_id") or (case.person_id if case else None)
    if person_id:
        try:
            person = persons.get_person(ctx, int(person_id))
        except (ValueError, RecordNotFound):
            person = None
    return render(
        ctx,
        "cases/form.html",
        status_code,
        case=case,
        person=person,
        values=values,
        errors=errors,
        managers=cases.case_managers(ctx),
    )


@get("/cases/new", opt={"permission": "cases.edit"})
def case_new(ctx: Ctx, person_id: FromQuery[int | None] = None) -> Template:
    return _case_form(ctx, None, {"person_id": person_id or "", "case_manager_id": ctx.user.id}, {})


@post("/cases", opt={"permission": "cases.edit"})
def case_create(ctx: Ctx, data: Form) -> Response[Any]:
    return act(ctx, lambda: cases.create_case(ctx, parse(CaseIn, data)), lambda case: f"/cases/{case.id}",
               lambda errors: _case_form(ctx, None, data, errors, 422))


def _case_page(ctx: Context, case: Any, status_code: int = 200, **extra: Any) -> Template:
    kind = extra.pop("kind", None)
    errors = extra.pop("errors", {})
    page = max(extra.pop("page", 1), 1)
    editing_goal = extra.pop("editing_goal", None)
    rows, has_more = events.timeline(ctx, case, kind, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    goals = cases.goals(ctx, case)
    return render(
        ctx,
        "cases/detail.html",
        status_code,
        case=case,
        goals=goals,
        plan=readiness.plan_areas(goals),
        editing_goal=editing_goal,
        edit_goal_errors=_sub_errors(errors, f"goal-{editing_goal}.") if editing_goal else {},
        timeline=rows,
        has_more=has_more,
        page=page,
        kind=kind or "",
        kinds=ctx.registry.event_kinds,
        visible_kinds=events.visible_kinds(ctx),
        manual_kinds=events.manual_kinds(ctx),
        tabs=[t for t in ctx.hooks.case_tabs(case) if ctx.user.can(t.permission)],
        transitions=cases.allowed_transitions(case),
        close_reasons=_choices(CloseReason),
        goal_areas=_choices(GoalArea),
        goal_states=_choices(GoalState),
        status_errors=_sub_errors(errors, "status."),
        goal_errors=_sub_errors(errors, "goal."),
        values=extra.pop("values", {}),
        **extra,
    )


def _sub_errors(errors: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)}


@get("/cases/{case_id:int}", opt={"permission": "cases.view"})
def case_detail(ctx: Ctx, case_id: FromPath[int], kind: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    """The case page; ``page`` > 1 shows older timeline entries (the "show older" link without JS)."""
    case = cases.get_case(ctx, case_id)
    audit.record_view(ctx, "case", case.id)
    return _case_page(ctx, case, kind=kind or None, page=page)


@get("/cases/{case_id:int}/timeline", opt={"permission": "cases.view"})
def case_timeline(ctx: Ctx, case_id: FromPath[int], kind: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    """htmx: a page of the timeline (filtered by kind), or the next page for "show older"."""
    case = cases.get_case(ctx, case_id)
    page = max(page, 1)
    rows, has_more = events.timeline(ctx, case, kind or None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return Template(
        "cases/_timeline.html",
        context={"case": case, "timeline": rows, "has_more": has_more, "kind": kind, "page": page, "kinds": ctx.registry.event_kinds},
    )


@get("/cases/{case_id:int}/edit", opt={"permission": "cases.edit"})
def case_edit(ctx: Ctx, case_id: FromPath[int]) -> Template:
    case = cases.get_case(ctx, case_id)
    values = {c: getattr(case, c) for c in CaseIn.model_fields}
    return _case_form(ctx, case, values, {})


@post("/cases/{case_id:int}", opt={"permission": "cases.edit"})
def case_update(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    case = cases.get_case(ctx, case_id)
    return act(ctx, lambda: cases.update_case(ctx, case, parse(CaseEditIn, data)), f"/cases/{case.id}",
               lambda errors: _case_form(ctx, case, data, errors, 422))


@post("/cases/{case_id:int}/status", opt={"permission": "cases.status"})
def case_status(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    case = cases.get_case(ctx, case_id)
    return act(ctx, lambda: cases.change_status(ctx, case, parse(StatusChangeIn, data)), f"/cases/{case.id}",
               lambda errors: _case_page(ctx, cases.get_case(ctx, case_id), 422, errors={f"status.{k}": v for k, v in errors.items()}, values=data))


@get("/cases/{case_id:int}/events/new", opt={"permission": "events.record"})
def event_new(request: Request[Any, Any, Any], ctx: Ctx, case_id: FromPath[int], kind: FromQuery[str] = "core.note") -> Template:
    """The form to record one kind of event (a fragment for htmx, a page without JavaScript)."""
    case = cases.get_case(ctx, case_id)
    return _event_form(request, ctx, case, kind, {"occurred_on": ctx.today.isoformat()}, {})


def _event_form(request: Request[Any, Any, Any], ctx: Context, case: Any, kind: str, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    kinds = {k.kind: k for k in events.manual_kinds(ctx)}
    if kind not in kinds:
        raise ActionRefused(_("You cannot record this kind of event."), "kind")
    context = {"case": case, "kind": kinds[kind], "fields": fields_of(kinds[kind].schema), "values": values, "errors": errors}
    if request.htmx and status_code == 200:  # type: ignore[attr-defined]
        return Template("cases/_event_form.html", context=context)
    return render(ctx, "cases/event_form.html", status_code, **context)


@post("/cases/{case_id:int}/events", opt={"permission": "events.record"})
def event_create(request: Request[Any, Any, Any], ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    case = cases.get_case(ctx, case_id)
    kind = str(data.get("kind", ""))

    def record() -> None:
        # An optional payload input left empty means "no value" (as for the other forms' fields).
        payload = {k: v for k, v in split_payload(data).items() if v != ""}
        entry = parse(EventIn, {**data, "payload": payload})
        events.record_event(
            ctx, case, entry.kind, entry.occurred_on, summary=entry.summary, payload=entry.payload, corrects_id=entry.corrects_id
        )

    return act(ctx, record, f"/cases/{case.id}#timeline", lambda errors: _event_form(request, ctx, case, kind, data, errors, 422))


@post("/cases/{case_id:int}/goals", opt={"permission": "cases.edit"})
def goal_create(ctx: Ctx, case_id: FromPath[int], data: Form) -> Response[Any]:
    case = cases.get_case(ctx, case_id)
    return act(ctx, lambda: cases.add_goal(ctx, case, parse(GoalIn, data)), f"/cases/{case.id}#plan",
               lambda errors: _case_page(ctx, case, 422, errors={f"goal.{k}": v for k, v in errors.items()}, values=data))


@post("/cases/{case_id:int}/goals/{goal_id:int}", opt={"permission": "cases.edit"})
def goal_update(ctx: Ctx, case_id: FromPath[int], goal_id: FromPath[int], data: Form) -> Response[Any]:
    """Change a goal's state, wording or next step (the form under each goal of the plan)."""
    case = cases.get_case(ctx, case_id)
    goal = cases.get_goal(ctx, case, goal_id)
    return act(ctx, lambda: cases.update_goal(ctx, case, goal, parse(GoalUpdateIn, data)), f"/cases/{case.id}#goal-{goal.id}",
               lambda errors: _case_page(ctx, case, 422, errors={f"goal-{goal.id}.{k}": v for k, v in errors.items()}, values=data, editing_goal=goal.id))


# --- administration ----------------------------------------------------------------------------


def _admin_page(ctx: Context, status_code: int = 200, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, policy: dict[str, Any] | None = None, protection: dict[str, Any] | None = None) -> Template:
    org = ctx.organisation
    return render(
        ctx,
        "admin/index.html",
        status_code,
        org=ctx.organisation,
        modules=ctx.registry.modules,
        failures=ctx.registry.failures,
        staff=admin.staff(ctx),
        supervisors=admin.supervisors(ctx),
        policy=policy or {c: getattr(org, c) for c in FollowUpPolicyIn.model_fields},
        units=[("days", _("days")), ("months", _("months"))],
        roles=_choices(Role),
        protection=protection or admin.data_protection(ctx),
        sensitive_choices=_choices(Role, [r for r in Role if r is not Role.admin]),
        errors=errors or {},
        values=values or {},
    )


@get("/admin", opt={"permission": "admin.modules"})
def admin_page(ctx: Ctx) -> Template:
    return _admin_page(ctx)


@post("/admin/modules/{module:str}", opt={"permission": "admin.modules"})
def admin_module(ctx: Ctx, module: FromPath[str], data: Form) -> Response[Any]:
    admin.set_module_enabled(ctx, module, data.get("enabled") == "1")
    ctx.session.commit()
    return see_other("/admin#modules")


@post("/admin/staff", opt={"permission": "admin.staff"})
def admin_add_staff(ctx: Ctx, data: Form) -> Response[Any]:
    try:
        role = Role(data.get("role", ""))
    except ValueError:
        return _admin_page(ctx, 422, {"role": _("Choose one of the options.")}, data)
    return act(ctx, lambda: admin.add_staff(ctx, str(data.get("email", "")), str(data.get("name", "")), str(data.get("password", "")), role),
               "/admin#staff", lambda errors: _admin_page(ctx, 422, errors, data))


@post("/admin/staff/{user_id:int}/role", opt={"permission": "admin.staff"})
def admin_change_role(ctx: Ctx, user_id: FromPath[int], data: Form) -> Response[Any]:
    try:
        role = Role(data.get("role", ""))
    except ValueError:
        return _admin_page(ctx, 422, {"role": _("Choose one of the options.")})
    return act(ctx, lambda: admin.change_role(ctx, user_id, role), "/admin#staff", lambda errors: _admin_page(ctx, 422, errors))


@post("/admin/follow-up-policy", opt={"permission": "admin.settings"})
def admin_follow_up_policy(ctx: Ctx, data: Form) -> Response[Any]:
    """The follow-up policy: interval, duration and escalation threshold (docs/follow_up.md)."""
    return act(ctx, lambda: followups.set_policy(ctx, parse(FollowUpPolicyIn, data)), "/admin#follow-up-policy",
               lambda errors: _admin_page(ctx, 422, errors, policy=data))


@post("/admin/data-protection", opt={"permission": "admin.settings"})
def admin_data_protection(ctx: Ctx, data: Form) -> Response[Any]:
    """Which roles see medical notes and offence details, and the retention period (docs/security.md)."""

    def refused(errors: dict[str, str]) -> Template:
        chosen = data.get("sensitive_roles", [])
        shown = {"sensitive_roles": [chosen] if isinstance(chosen, str) else chosen, "retention_months": data.get("retention_months")}
        return _admin_page(ctx, 422, errors, protection=shown)

    return act(ctx, lambda: admin.set_data_protection(ctx, parse(DataProtectionIn, data)), "/admin#data-protection", refused)


@post("/admin/staff/{user_id:int}/supervisor", opt={"permission": "admin.staff"})
def admin_set_supervisor(ctx: Ctx, user_id: FromPath[int], data: Form) -> Response[Any]:
    """Who this staff member's overdue follow-ups escalate to (blank: the administrators)."""
    chosen = str(data.get("supervisor_id", "")).strip()
    if chosen and not chosen.isdecimal():
        return _admin_page(ctx, 422, {"supervisor_id": _("Choose one of the options.")})
    return act(ctx, lambda: admin.set_supervisor(ctx, user_id, int(chosen) if chosen else None), "/admin#staff",
               lambda errors: _admin_page(ctx, 422, errors))


@post("/admin/staff/{user_id:int}/remove", opt={"permission": "admin.staff"})
def admin_remove_staff(ctx: Ctx, user_id: FromPath[int]) -> Response[Any]:
    return act(ctx, lambda: admin.remove_member(ctx, user_id), "/admin#staff", lambda errors: _admin_page(ctx, 422, errors))


@get("/admin/audit", opt={"permission": "admin.audit"})
def admin_audit(
    ctx: Ctx,
    record_type: FromQuery[str] = "",
    record_id: FromQuery[str] = "",
    user_id: FromQuery[str] = "",
    page: FromQuery[int] = 1,
) -> Template:
    """The audit trail, newest first: of one record (``record_type`` and ``record_id``), of one
    staff member (``user_id``), or of the whole organisation. Read-only: no route changes it."""
    page = max(page, 1)
    if record_type and record_type not in audit.RECORD_TYPES:
        raise RecordNotFound
    rid = int(record_id) if record_id.strip().isdecimal() else None
    uid = int(user_id) if user_id.strip().isdecimal() else None
    record_name = audit.record_label(ctx, record_type, rid) if record_type and rid is not None else None
    user_name = audit.user_label(ctx, uid) if uid is not None else None
    rows, has_more = audit.trail(ctx, record_type or None, rid, uid, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    filters = {"record_type": record_type, "record_id": rid or "", "user_id": uid or ""}
    return render(
        ctx,
        "admin/audit.html",
        rows=rows,
        page=page,
        has_more=has_more,
        record_type=record_type,
        record_id=rid,
        record_name=record_name,
        user_id=uid,
        user_name=user_name,
        query=urlencode({k: v for k, v in filters.items() if v}),
    )


ROUTES = [
    login_page,
    login,
    logout,
    set_language,
    switch_organisation,
    dashboard_page,
    person_list,
    person_csv,
    person_xlsx,
    person_new,
    person_create,
    person_detail,
    person_edit,
    person_update,
    person_lookup,
    person_link,
    case_list,
    case_csv,
    case_xlsx,
    case_new,
    case_create,
    case_detail,
    case_timeline,
    case_edit,
    case_update,
    case_status,
    event_new,
    event_create,
    goal_create,
    goal_update,
    admin_page,
    admin_module,
    admin_add_staff,
    admin_change_role,
    admin_remove_staff,
    admin_follow_up_policy,
    admin_data_protection,
    admin_set_supervisor,
    admin_audit,
    *REPORT_ROUTES,
    *IMPORT_ROUTES,
    *PROGRAMME_ROUTES,
    *READINESS_ROUTES,
    *FOLLOW_UP_ROUTES,
    *ACCOUNT_ROUTES,
    *PRIVACY_ROUTES,
]

