"""The follow-ups page (due this week, overdue, escalated), its downloads and the private calendar
feed of one's follow-up visits. The rules: docs/follow_up.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any

import litestar
from icalendar import Calendar, Event as CalendarEvent
from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from core.auth import PUBLIC
from core.context import Context
from core.i18n import gettext as _
from core.i18n import use_locale
from core.models import Organisation, Role, User
from core.services import cases, followups
from core.web.deps import Ctx, Db
from core.web.rendering import act, render
from core.web.tables import table_download

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True, status_code=303)
ALL = "all"
FEED_SUFFIX = ".ics"


def _manager_filter(ctx: Context, case_manager: str) -> int | None:
    """The case manager whose list is shown: the one asked for, everyone (``all``), or by default
    case managers their own and everyone else all."""
    if case_manager.strip().isdecimal():
        return int(case_manager)
    if case_manager == ALL or ctx.user.role != Role.case_manager:
        return None
    return ctx.user.id


def _page(ctx: Context, case_manager: str, feed_url: str | None = None) -> Template:
    manager_id = _manager_filter(ctx, case_manager)
    rows = followups.due_and_overdue(ctx, manager_id)
    escalated = followups.escalated_to_me(ctx)
    chosen = ALL if manager_id is None else str(manager_id)
    return render(
        ctx,
        "followups/index.html",
        overdue=[r for r in rows if r.overdue],
        this_week=[r for r in rows if not r.overdue],
        escalated=escalated,
        show_escalated=bool(escalated) or ctx.user.role == Role.admin or followups.supervises_anyone(ctx),
        managers=cases.case_managers(ctx),
        chosen=chosen,
        query=f"?case_manager={chosen}",
        policy=followups.Policy.of(ctx.organisation),
        feed=followups.active_feed(ctx),
        feed_url=feed_url,
    )


@get("/follow-ups", opt={"permission": "cases.view"})
def follow_ups_page(ctx: Ctx, case_manager: FromQuery[str] = "") -> Response[Any]:
    """Visits overdue and due this week, for one case manager or all."""
    return _page(ctx, case_manager)


def _download(ctx: Context, case_manager: str, fmt: str) -> Response[bytes]:
    rows = followups.due_and_overdue(ctx, _manager_filter(ctx, case_manager))
    header = [_("Case"), _("Name (Latin script)"), _("Name (Khmer script)"), _("Case manager"), _("Released"),
              _("Last visit"), _("Due"), _("Days overdue"), _("Escalated")]
    lines = [
        [r.case_id, r.person_name, r.person_name_km, r.case_manager_name, r.released_on,
         r.basis if r.basis != r.released_on else None, r.due_on, r.overdue_days, _("Yes") if r.escalated else _("No")]
        for r in rows
    ]
    return table_download(f"follow-ups-{ctx.today.isoformat()}", header, lines, fmt)


@get("/follow-ups.csv", opt={"permission": "data.export"})
def follow_ups_csv(ctx: Ctx, case_manager: FromQuery[str] = "") -> Response[bytes]:
    return _download(ctx, case_manager, "csv")


@get("/follow-ups.xlsx", opt={"permission": "data.export"})
def follow_ups_xlsx(ctx: Ctx, case_manager: FromQuery[str] = "") -> Response[bytes]:
    return _download(ctx, case_manager, "xlsx")


# --- the calendar feed -------------------------------------------------------------------------------


@litestar.post("/follow-ups/calendar", opt={"permission": "cases.view"}, sync_to_thread=True, status_code=200)
def calendar_new(request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
    """Make a new private feed URL (revoking the one before) and show it, this once: only its
    SHA-256 is kept."""
    token = followups.new_feed(ctx)
    ctx.session.commit()
    url = str(request.url_for("calendar_feed", feed=token + FEED_SUFFIX))
    page = _page(ctx, "", feed_url=url)
    page.headers["Cache-Control"] = "no-store"
    return page


@post("/follow-ups/calendar/revoke", opt={"permission": "cases.view"})
def calendar_revoke(ctx: Ctx) -> Response[Any]:
    return act(ctx, lambda: followups.revoke_feeds(ctx), "/follow-ups#calendar", lambda errors: _page(ctx, ""))


@get("/calendar/{feed:str}", opt={"permission": PUBLIC}, name="calendar_feed")
def calendar_feed(request: Request[Any, Any, Any], db: Db, feed: FromPath[str]) -> Response[bytes]:
    """A staff member's follow-up visits as iCalendar, for a phone's calendar app: the next visit
    due of each of their open released cases, overdue ones too.

    The feed leaves the app (phones sync it to Google or Apple), so it carries no name and no
    offence: only the case number and a link to the case page, which asks for a sign-in.
    Unknown or revoked tokens, and feeds of people no longer on the staff, answer 404.
    """
    token = feed.removesuffix(FEED_SUFFIX)
    row = followups.feed_for_token(db, token) if feed.endswith(FEED_SUFFIX) else None
    if row is None:
        raise NotFoundException()
    today = date.today()
    visits = followups.next_visits(db, row.org_id, row.user_id, today)
    user, org = db.get(User, row.user_id), db.get(Organisation, row.org_id)
    assert user is not None and org is not None
    db.commit()  # last_used_at
    base = str(request.base_url).rstrip("/")
    with use_locale(user.locale or org.default_locale, request.app.state.catalogs):
        body = _ics(visits, today, base, request.url.hostname or "homecoming")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": 'inline; filename="follow-ups.ics"'},
    )


def _ics(visits: list[tuple[int, date]], today: date, base: str, host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Homecoming//Follow-up visits//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Follow-up visits"))
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    for case_id, due in visits:
        link = f"{base}/cases/{case_id}"
        event = CalendarEvent()
        # Stable per case and due date: a visit recorded moves the event (a new UID), a calendar
        # refresh of the same schedule changes nothing.
        event.add("uid", f"follow-up-{case_id}-{due.isoformat()}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", due)
        event.add("dtend", due + timedelta(days=1))
        if due < today:
            event.add("summary", _("Follow-up visit overdue: case %(id)s", id=case_id))
        else:
            event.add("summary", _("Follow-up visit due: case %(id)s", id=case_id))
        event.add("description", link)
        event.add("url", link)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


ROUTES = [follow_ups_page, follow_ups_csv, follow_ups_xlsx, calendar_new, calendar_revoke, calendar_feed]
