"""One's own account: signed-in devices, signing out elsewhere, changing one's password.

Every function acts on the signed-in user (``ctx.user``) across all their organisations: a
session or API token belongs to a login, not to one organisation's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from ua_parser import parse as parse_user_agent

from core.auth import (
    LoginThrottle,
    end_user_sessions,
    hash_password,
    password_problem,
    session_id,
    verify_password,
)
from core.context import Context
from core.errors import InvalidInput
from core.i18n import gettext as _
from core.models import Organisation, User, WebSession


@dataclass(frozen=True)
class Device:
    """One signed-in session, as the account page lists it."""

    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    browser: str
    organisation: str
    current: bool


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def browser_label(user_agent: str | None) -> str:
    """"Firefox on Windows" from a user agent string; the string itself when it names no known
    browser, "Unknown" without one."""
    if not user_agent:
        return _("Unknown")
    found = parse_user_agent(user_agent)
    browser = found.user_agent.family if found.user_agent and found.user_agent.family != "Other" else None
    system = found.os.family if found.os and found.os.family != "Other" else None
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or user_agent


def devices(ctx: Context, current_token: str | None, idle_minutes: int) -> list[Device]:
    """The user's live web sessions, the most recently used first (the one asking among them)."""
    now = datetime.now(timezone.utc)
    current = session_id(current_token) if current_token else None
    rows = ctx.session.execute(
        select(WebSession, Organisation.name)
        .join(Organisation, Organisation.id == WebSession.org_id)
        .where(WebSession.user_id == ctx.user.id, WebSession.expires_at > now)
    ).all()
    found = []
    for row, org_name in rows:
        seen = _aware(row.last_seen_at or row.created_at)
        if now - seen > timedelta(minutes=idle_minutes):
            continue  # ended by the idle timeout; deleted at its next use or the next sign-in
        found.append(Device(_aware(row.created_at), seen, row.ip, browser_label(row.user_agent), org_name, row.id == current))
    return sorted(found, key=lambda d: (not d.current, -d.last_seen_at.timestamp()))


def sign_out_everywhere(ctx: Context, keep_token: str | None = None) -> int:
    """End every web session and API token of the user, but the session of ``keep_token`` (the
    one asking, for "sign out everywhere else"); returns how many web sessions were ended."""
    return end_user_sessions(ctx.session, ctx.user.id, keep=keep_token)


def change_password(
    ctx: Context, current: str, new: str, again: str, keep_token: str | None, throttle: LoginThrottle | None = None
) -> None:
    """Change the user's password after checking the current one, under the password rules.

    Every other session of the user and all their API tokens end; the one asking
    (``keep_token``) stays signed in. A wrong current password counts as a failed sign-in from
    the request's address (``throttle``), so a left-open session cannot be used to guess it.
    """
    user = ctx.session.get(User, ctx.user.id)
    assert user is not None  # the signed-in user exists (AuthMiddleware loaded them)
    errors: dict[str, str] = {}
    ip = ctx.origin.ip
    if throttle is not None and not throttle.allows(ip):
        errors["current_password"] = _("Too many wrong passwords from this address. Try again later.")
    elif not verify_password(user.password_hash, current):
        if throttle is not None:
            throttle.failed(ip)
        errors["current_password"] = _("This is not your current password.")
    problem = password_problem(new, user.email, user.name)
    if problem is not None:
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = _("Choose a password other than the current one.")
    elif again != new:
        errors["new_password_again"] = _("The two new passwords differ.")
    if errors:
        raise InvalidInput(errors)
    user.password_hash = hash_password(new)
    user.password_changed_at = datetime.now(timezone.utc)
    end_user_sessions(ctx.session, user.id, keep=keep_token)
    ctx.session.flush()
