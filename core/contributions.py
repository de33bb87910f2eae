"""The typed contributions modules return from their hooks (re-exported by :mod:`core.plugin_api`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from core.models import Role

PROJECT = "homecoming"
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorator marking a function in a module's ``hooks.py`` as a hook implementation."""

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Module:
    """What a module contributes as a whole, returned by ``register_module``.

    :param label: the name staff see in menus and on the modules page (a message id for gettext).
    :param description: one sentence for the modules page.
    :param route_handlers: Litestar handlers or routers. Each handler declares its permission
        with ``opt={"permission": "<name>"}``; core answers 404 for organisations that have not
        enabled the module.
    :param templates: a folder holding ``<module name>/...`` templates, searched after site
        overrides and before core's own templates.
    :param migrations: the module's Alembic versions folder (its own branch, label = module name).
    :param locale: a folder of ``<lang>/LC_MESSAGES/messages.po`` catalogs merged into core's.
    :param static: a folder served at ``/static/<module name>/``.
    :param always_on: a built-in every organisation has (the ledger): its hooks and routes apply
        to every organisation whatever the modules page says, and that page offers no switch.
    """

    label: str
    description: str = ""
    route_handlers: Sequence[Any] = ()
    templates: Path | None = None
    migrations: Path | None = None
    locale: Path | None = None
    static: Path | None = None
    always_on: bool = False


@dataclass(frozen=True)
class Permission:
    """A permission a route or action can require, and the roles that hold it by default."""

    name: str
    label: str
    roles: frozenset[Role] = field(default_factory=lambda: frozenset({Role.admin}))


@dataclass(frozen=True)
class MenuItem:
    """An entry of the main navigation, shown to users who hold ``permission``."""

    label: str
    href: str
    permission: str
    order: int = 100


@dataclass(frozen=True)
class CaseTab:
    """A tab on the case page. ``url`` is formatted with ``case_id``; its answer is loaded into
    the tab by htmx (a fragment) or opened as a page without JavaScript."""

    key: str
    label: str
    url: str
    permission: str
    order: int = 100


@dataclass(frozen=True)
class EventKind:
    """A kind of timeline event. ``kind`` is namespaced by the module: ``<module>.<what>``.

    :param schema: a pydantic model the payload must satisfy (``None``: no payload fields).
    :param manual: staff may record it by hand from the case page.
    :param icon: a short symbol shown beside the event on the timeline.
    """

    kind: str
    label: str
    icon: str = "•"
    schema: type | None = None
    manual: bool = False
    permission: str = "events.record"


@dataclass(frozen=True)
class DashboardPanel:
    """A panel on the dashboard: ``render(session, user)`` returns safe HTML or ``None``."""

    key: str
    permission: str
    render: Callable[..., str | None]
    order: int = 100
