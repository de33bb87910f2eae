"""Dependencies handed to route handlers (core's and modules')."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy.orm import Session

from core.auth import CurrentUser
from core.context import Context, Origin


Ctx: TypeAlias = NamedDependency[Context]
"""Annotate a handler's ``ctx`` parameter with this to get the :class:`Context` of the request."""
Db: TypeAlias = NamedDependency[Session]
"""Annotate a handler's ``db`` parameter with this to get a plain session (public routes, where
nobody is signed in and there is no :class:`Context`)."""


def provide_ctx(request: Request[Any, Any, Any]) -> Generator[Context, None, None]:
    """A :class:`Context` for the signed-in user; its session closes (rolling back anything not
    committed) when the request ends."""
    state = request.app.state
    user: CurrentUser = request.scope["user"]
    session = _session_for(request)
    try:
        yield Context(session=session, user=user, registry=state.registry, origin=origin_of(request))
    finally:
        session.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session_for(request: Request[Any, Any, Any]) -> Session:
    """A writing session (``BEGIN IMMEDIATE`` on SQLite, core.db.make_session_factory) for a
    request that may change something, a reading one for a page."""
    state = request.app.state
    return (state.session_factory if request.method in SAFE_METHODS else state.write_session_factory)()


USER_AGENT_LENGTH = 200


def origin_of(request: Request[Any, Any, Any]) -> Origin:
    """Where the request came from: the client's address and (the start of) its user agent.

    ``X-Forwarded-For`` is anyone's to write, so it is believed only when the settings say the app
    is behind a proxy (``behind_proxy``), and then only its last address: the one that proxy
    added, the client as the proxy saw it.
    """
    ip = request.client.host if request.client else None
    if request.app.state.settings.behind_proxy:
        forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
        if forwarded:
            ip = forwarded[-1]
    agent = request.headers.get("user-agent")
    return Origin(ip=ip[:45] if ip else None, user_agent=agent[:USER_AGENT_LENGTH] if agent else None)


def provide_db(request: Request[Any, Any, Any]) -> Generator[Session, None, None]:
    """A plain database session, for the few routes that run before anyone is signed in."""
    session = _session_for(request)
    try:
        yield session
    finally:
        session.close()
