"""Passwords, sessions, API tokens, roles and the permission guard every route passes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.i18n import LOCALES, negotiate, reset_translations, set_translations
from core.models import ApiToken, Membership, Organisation, OrganisationModule, Role, User, WebSession

SESSION_COOKIE = "hc_session"
LANGUAGE_COOKIE = "hc_lang"
PUBLIC = "public"
"""The permission of routes anyone may open (login, static files, language choice)."""

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    return CurrentUser(
        id=user.id,
        name=user.name,
        email=user.email,
        locale=user.locale or org.default_locale,
        org_id=org_id,
        org_slug=current.slug,
        org_name=current.name,
        role=current.role,
        permissions=perms_by_role[current.role],
        enabled_modules=enabled_modules(session, org_id),
        memberships=memberships,
    )


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Check a login; after five failures in a row the account is locked for 15 minutes."""
    # Emails are stored lower-cased (core.services.admin.create_user); PostgreSQL compares case.
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    now = datetime.now(timezone.utc)
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same work whether or not the email exists
        return None
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=timezone.utc)
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


def start_session(session: Session, user: User, org_id: int, hours: int) -> str:
    """Create a server-side session and return the token for the cookie (not stored in clear)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    session.add(
        WebSession(id=_digest(token), user_id=user.id, org_id=org_id, expires_at=now + timedelta(hours=hours))
    )
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


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


def _lookup(session: Session, model: type[WebSession] | type[ApiToken], token: str) -> tuple[int, int] | None:
    row = session.get(model, _digest(token))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=timezone.utc)
    if expires <= datetime.now(timezone.utc):
        return None
    return row.user_id, row.org_id


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
                _load, state.session_factory, ApiToken if is_api else WebSession, token, state.perms_by_role
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
    factory: sessionmaker[Session], model: Any, token: str, perms_by_role: dict[Role, frozenset[str]]
) -> CurrentUser | None:
    with factory() as session:
        found = _lookup(session, model, token)
        if found is None:
            return None
        return load_current_user(session, found[0], found[1], perms_by_role)


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
