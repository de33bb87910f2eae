"""The typed contributions modules return from their hooks (re-exported by :mod:`core.plugin_api`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from core.models import Role

if TYPE_CHECKING:  # core.context imports the plugin machinery, which imports this module
    from core.context import Context

PROJECT = "homecoming"
"""The pluggy project name of the hook markers (and of the ``homecoming.plugins`` entry points)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorator marking a function in a module's ``hooks.py`` as a hook implementation."""

ALL_ROLES = frozenset(Role)
"""Every role, for a :class:`Permission` every staff member holds."""


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
    :param requires_hooks: the oldest hook contract (``core.hookspecs.HOOKS_VERSION``, ``"X.Y"``)
        the module works with, when it implements a hook or argument added after ``0.1``; an older
        Homecoming does not load it and says why.
    """

    label: str
    description: str = ""
    route_handlers: Sequence[Any] = ()
    templates: Path | None = None
    migrations: Path | None = None
    locale: Path | None = None
    static: Path | None = None
    always_on: bool = False
    requires_hooks: str = "0.1"


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


@dataclass(frozen=True)
class Indicator:
    """A figure a module reports month by month (``register_report_indicators``): a bar chart of
    the chosen twelve months, their total, and a column of the programme dashboard's downloads.

    :param key: ``<module>.<what>`` (``training.certificates``), unique; names it in downloads.
    :param label: what is counted, for people (a message id for gettext, ``lazy_gettext``).
    :param monthly: ``monthly(ctx, first, last)`` answers for every month from ``first`` (the
        first day of a month) to ``last`` (the last day of the range, never after today) at once,
        as ``{first day of a month: value}``; months left out count 0, keys outside the range are
        ignored. Count on the day the thing happened and only ``ctx.org_id``'s rows, with one or
        two queries for the whole range, never one per month (:func:`core.plugin_api.by_month`
        adds up ``(day, value)`` rows grouped by day).
    :param currency: ``None`` for a count (``int`` values); a currency code (``"USD"``) when the
        values are amounts of money (``Decimal``) in that currency. A money indicator whose
        months are all 0 is left off the page (an organisation that never pays in riel).
    :param definition: one sentence saying what is counted and on which day (shown under the
        chart and in docs).
    :param permission: who sees it (besides ``reports.view`` for the page itself).
    :param order: position on the page (core's own figures come first).
    """

    key: str
    label: str
    monthly: Callable[[Context, date, date], Mapping[date, int | Decimal]]
    currency: str | None = None
    definition: str = ""
    permission: str = "reports.view"
    order: int = 100


@dataclass(frozen=True)
class BreakdownRow:
    """One row of a :class:`Breakdown`: the values of its dimensions (``None``: none recorded),
    a currency and the amount over the whole range."""

    values: tuple[str | None, ...]
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class Breakdown:
    """A total over the dashboard's range split by one or more dimensions, per currency
    (``register_report_breakdowns``): the ledger's spending by module and fund. Shown as a table
    and, per currency, a stacked bar chart (a bar per value of the first dimension, stacked by
    the second), and in the downloads.

    :param key: ``<module>.<what>`` (``ledger.spending``).
    :param label: the heading (a message id for gettext).
    :param dimensions: the column headings of ``values`` (``("Module", "Fund")``).
    :param totals: ``totals(ctx, first, last)``: the rows over the days ``first`` to ``last``
        (inclusive), from a fixed number of queries; values are what people read (labels, codes).
    :param definition: one sentence saying what is added up.
    """

    key: str
    label: str
    dimensions: tuple[str, ...]
    totals: Callable[[Context, date, date], Sequence[BreakdownRow]]
    definition: str = ""
    permission: str = "reports.view"
    order: int = 100
