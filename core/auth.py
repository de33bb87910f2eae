"""Passwords, sessions, API tokens, roles and the permission guard every route passes."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from core.errors import ActionRefused
from core.i18n import LOCALES, negotiate, reset_translations, set_translations
from core.i18n import gettext as _
from core.models import ApiToken, Membership, Organisation, OrganisationModule, Role, User, WebSession

SESSION_COOKIE = "hc_session"
LANGUAGE_COOKIE = "hc_lang"
PUBLIC = "public"
"""The permission of routes anyone may open (login, static files, language choice)."""
SENSITIVE = "records.sensitive"
"""Seeing and editing a person's medical notes and a case's offence details. Not held by a role
once and for all: each organisation chooses the roles (``Organisation.sensitive_roles``;
administrators always), and :func:`load_current_user` adds it on every request."""

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MAX_FAILED_LOGINS_PER_ADDRESS = 20
"""Failed sign-ins one client address may make within :data:`LOCKOUT`, whatever the accounts."""
LAST_SEEN_EVERY = timedelta(minutes=1)
"""A session's ``last_seen_at`` is written at most this often (not on every request)."""
MIN_PASSWORD = 10

_hasher = PasswordHasher()
log = logging.getLogger(__name__)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# The 30,000 most common passwords of zxcvbn's list (from leaked password sets), lower-cased.
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be chosen by the person with ``email`` and ``name``, or None.

    The one place the password rules live (creating a login, changing one's password, any reset):
    at least :data:`MIN_PASSWORD` characters, not digits only, not the email's local part or the
    person's name nor containing either, not one of the most common passwords. The message is
    translated, for the form's password field.
    """
    folded = password.casefold()
    if len(password) < MIN_PASSWORD:
        return _("Use at least %(n)s characters.", n=MIN_PASSWORD)
    if "".join(password.split()).isdigit():
        return _("Use more than digits.")
    # Parts of a name shorter than four letters ("Sok", "Ly") are too often parts of words.
    name = name.strip().casefold()
    personal = [email.strip().casefold().partition("@")[0], name, "".join(name.split()), *name.split()]
    if any(len(part) >= 4 and part in folded for part in personal):
        return _("Do not use your name or email address in the password.")
    if folded in _COMMON_PASSWORDS or "".join(folded.split()) in _COMMON_PASSWORDS:
        return _("This password is too common: choose another.")
    return None


def check_password_rules(password: str, email: str = "", name: str = "", field: str = "password") -> None:
    """Raise :class:`ActionRefused` at ``field`` when :func:`password_problem` finds one."""
    problem = password_problem(password, email, name)
    if problem is not None:
        raise ActionRefused(problem, field)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class OrgMembership:
    """An organisation a user belongs to, for the organisation switcher."""

    id: int
    slug: str
    name: str
    role: Role


@dataclass(frozen=True)
class CurrentUser:
    """Who is asking, in which organisation, with which role, permissions and modules."""

    id: int
    name: str
    email: str
    locale: str
    org_id: int
    org_slug: str
    org_name: str
    role: Role
    permissions: frozenset[str]
    enabled_modules: frozenset[str]
    memberships: tuple[OrgMembership, ...]

    def can(self, permission: str) -> bool:
        return permission == PUBLIC or permission in self.permissions


def role_permissions(registry: Any) -> dict[Role, frozenset[str]]:
    """Which permissions each role holds, from every installed module's declarations."""
    return {
        role: frozenset(name for name, p in registry.permissions.items() if role in p.roles)
        for role in Role
    }


def sees_sensitive(org: Organisation, role: Role) -> bool:
    """Whether ``role`` may see the organisation's sensitive fields (administrators always may)."""
    allowed = {name.strip() for name in (org.sensitive_roles or "").split(",")}
    return role is Role.admin or role.value in allowed


def enabled_modules(session: Session, org_id: int) -> frozenset[str]:
    rows = session.scalars(
        select(OrganisationModule.module).where(
            OrganisationModule.org_id == org_id, OrganisationModule.enabled.is_(True)
        )
    )
    return frozenset(rows)


def load_current_user(
    session: Session, user_id: int, org_id: int, perms_by_role: dict[Role, frozenset[str]]
) -> CurrentUser | None:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    rows = session.execute(
        select(Membership.role, Organisation)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.user_id == user_id)
        .order_by(Organisation.name)
    ).all()
    memberships = tuple(OrgMembership(o.id, o.slug, o.name, Role(r)) for r, o in rows)
    current = next((m for m in memberships if m.id == org_id), None)
    if current is None:
        return None
    org = next(o for _, o in rows if o.id == org_id)
    # Read on every request, so a change of the organisation's choice applies at the next one.
    permissions = perms_by_role[current.role] - {SENSITIVE}
    if sees_sensitive(org, current.role):
        permissions |= {SENSITIVE}
    return CurrentUser(
        id=user.id,
        name=user.name,
        email=user.email,
        locale=user.locale or org.default_locale,
        org_id=org_id,
        org_slug=current.slug,
        org_name=current.name,
        role=current.role,
        permissions=permissions,
        enabled_modules=enabled_modules(session, org_id),
        memberships=memberships,
    )


class LoginThrottle:
    """Failed sign-ins per client address: after :data:`MAX_FAILED_LOGINS_PER_ADDRESS` within
    :data:`LOCKOUT` the address may not try again until the oldest failure is that old (a moving
    window, by the ``limits`` library). One per app, in the process's memory: several server
    processes each count their own (docs/security.md, "Accounts").
    """

    def __init__(self, limit: int = MAX_FAILED_LOGINS_PER_ADDRESS, window: timedelta = LOCKOUT) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._item = RateLimitItemPerMinute(limit, max(1, int(window.total_seconds() // 60)))

    def allows(self, ip: str | None) -> bool:
        """May ``ip`` try to sign in now? (Without a known address there is nothing to count.)"""
        return ip is None or self._limiter.test(self._item, "sign-in", ip)

    def failed(self, ip: str | None) -> None:
        """Count one failed sign-in (or wrong current password) from ``ip``."""
        if ip is not None:
            self._limiter.hit(self._item, "sign-in", ip)


def authenticate(
    session: Session, email: str, password: str, ip: str | None = None, throttle: LoginThrottle | None = None
) -> User | None:
    """Check a login; after five failures in a row the account is locked for 15 minutes, and after
    :data:`MAX_FAILED_LOGINS_PER_ADDRESS` failures from one address (``ip``, counted by
    ``throttle``) that address is refused, whichever accounts it tries. A refusal looks the same
    in every case."""
    if throttle is not None and not throttle.allows(ip):
        return None
    user = _authenticate(session, email, password)
    if user is None and throttle is not None:
        throttle.failed(ip)
    return user


def _authenticate(session: Session, email: str, password: str) -> User | None:
    # Emails are stored lower-cased (core.services.admin.create_user); PostgreSQL compares case.
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    now = datetime.now(timezone.utc)
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same work whether or not the email exists
        return None
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        return None
    if not user.is_active or not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.commit()
        return None
    user.failed_logins = 0
    user.locked_until = None
    return user


_DUMMY_HASH = hash_password(secrets.token_hex(8))


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def start_session(
    session: Session,
    user: User,
    org_id: int,
    hours: int,
    idle_minutes: int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """Create a server-side session and return the token for the cookie (not stored in clear).

    Every session that has run out (its lifetime, or ``idle_minutes`` without a request) is
    deleted on the way, anyone's: they open nothing, and the list of one's devices stays true.
    """
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    purge_sessions(session, idle_minutes)
    session.add(
        WebSession(
            id=_digest(token),
            user_id=user.id,
            org_id=org_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
            ip=ip[:45] if ip else None,
            user_agent=user_agent[:200] if user_agent else None,
        )
    )
    return token


def purge_sessions(session: Session, idle_minutes: int | None = None) -> None:
    """Delete the sessions past their lifetime or (with ``idle_minutes``) idle longer than that."""
    now = datetime.now(timezone.utc)
    ended = [WebSession.expires_at <= now]
    if idle_minutes is not None:
        ended.append(WebSession.last_seen_at < now - timedelta(minutes=idle_minutes))
    session.execute(delete(WebSession).where(or_(*ended)))
    session.execute(delete(ApiToken).where(ApiToken.expires_at <= now))


def session_id(token: str) -> str:
    """The stored id of the session whose cookie holds ``token``."""
    return _digest(token)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def end_user_sessions(session: Session, user_id: int, keep: str | None = None, org_id: int | None = None) -> int:
    """End a user's web sessions and API tokens: all of them, or (``org_id``) those in one
    organisation; ``keep`` is the token of a session to leave open (the one asking). Returns how
    many web sessions were ended."""
    sessions = delete(WebSession).where(WebSession.user_id == user_id)
    tokens = delete(ApiToken).where(ApiToken.user_id == user_id)
    if org_id is not None:
        sessions = sessions.where(WebSession.org_id == org_id)
        tokens = tokens.where(ApiToken.org_id == org_id)
    if keep is not None:
        sessions = sessions.where(WebSession.id != _digest(keep))
    ended = session.execute(sessions).rowcount  # type: ignore[attr-defined]
    session.execute(tokens)
    return int(ended or 0)


def switch_session_org(session: Session, token: str, org_id: int) -> None:
    row = session.get(WebSession, _digest(token))
    if row is not None:
        row.org_id = org_id


def issue_api_token(session: Session, user: User, org_id: int, name: str = "", days: int = 30) -> str:
    token = "hc_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=_digest(token),
            user_id=user.id,
            org_id=org_id,
            name=name,
            expires_at=datetime.now(timezone.utc) + timedelta(days=days),
        )
    )
    return token


def _lookup(
    session: Session, model: type[WebSession] | type[ApiToken], token: str, idle_minutes: int | None = None
) -> tuple[int, int] | None:
    """``(user, organisation)`` of a live session or token.

    A web session idle longer than ``idle_minutes`` is deleted and opens nothing; one in use has
    its ``last_seen_at`` written, at most once every :data:`LAST_SEEN_EVERY`, so a page that
    sends ten requests costs no ten writes.
    """
    row = session.get(model, _digest(token))
    if row is None:
        return None
    now = datetime.now(timezone.utc)
    if _aware(row.expires_at) <= now:  # type: ignore[operator]
        return None
    if isinstance(row, WebSession):
        seen = _aware(row.last_seen_at or row.created_at)
        assert seen is not None
        if idle_minutes is not None and now - seen > timedelta(minutes=idle_minutes):
            _write(session, lambda: session.delete(row))
            return None  # refused even when the delete could not be written now
        if now - seen >= LAST_SEEN_EVERY:
            _write(session, lambda: setattr(row, "last_seen_at", now))
    return row.user_id, row.org_id


def _write(session: Session, change: Callable[[], object]) -> None:
    """Commit a session's bookkeeping; when the database is busy (SQLite's one writer), skip it
    rather than fail the request: the next request writes it."""
    try:
        change()
        session.commit()
    except OperationalError:
        log.warning("could not record a session's use now", exc_info=True)
        session.rollback()


class AuthMiddleware:
    """Finds the user of a request (session cookie for pages, bearer token for ``/api/``) and
    makes the user's language current for everything the request does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        state = connection.app.state
        is_api = scope["path"].startswith("/api/")
        token: str | None = None
        if is_api:
            auth = connection.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip()
        else:
            token = connection.cookies.get(SESSION_COOKIE)
        user = None
        if token and not scope["path"].startswith("/static/"):  # static files need no user
            user = await anyio.to_thread.run_sync(
                _load,
                state.session_factory,
                ApiToken if is_api else WebSession,
                token,
                state.perms_by_role,
                state.settings.session_idle_minutes,
            )
        scope["user"] = user
        if user is not None:
            locale = user.locale
        else:
            locale = connection.cookies.get(LANGUAGE_COOKIE) or negotiate(connection.headers.get("accept-language"))
        if locale not in LOCALES:
            locale = "en"
        scope.setdefault("state", {})["locale"] = locale
        reset = set_translations(locale, state.catalogs)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_translations(reset)


def _load(
    factory: sessionmaker[Session], model: Any, token: str, perms_by_role: dict[Role, frozenset[str]], idle_minutes: int
) -> CurrentUser | None:
    with factory() as session:
        found = _lookup(session, model, token, idle_minutes)
        if found is None:
            return None
        return load_current_user(session, found[0], found[1], perms_by_role)


MAX_ID = 2**63 - 1
"""The largest id a database row can have (a 64-bit integer): an id in the address beyond it
names nothing (docs/security.md, "Bad input")."""


def permission_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Every route declares ``opt["permission"]``; a route without one is refused (fail closed).

    A route of a module the user's organisation has not enabled answers 404, as if it did not
    exist.
    """
    permission = handler.opt.get("permission")
    if permission is None:
        raise PermissionDeniedException(f"route {handler} declares no permission")
    if permission == PUBLIC:
        return
    user: CurrentUser | None = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException()
    module = handler.opt.get("module")
    if module is not None and module not in user.enabled_modules:
        raise NotFoundException()
    if not user.can(permission):
        raise PermissionDeniedException()
    if any(isinstance(v, int) and not -MAX_ID <= v <= MAX_ID for v in connection.path_params.values()):
        raise NotFoundException()  # no row has such an id; SQLite cannot even compare it (a 500)
