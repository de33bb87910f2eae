"""Hook specifications: the contract between core and programme modules.

Hooks are grouped by when they are called. ``register_<thing>`` hooks return contributions (typed
frozen dataclasses from :mod:`core.plugin_api`); ``on_<event>`` hooks react and return nothing.
pluggy lets an implementation accept any subset of the arguments named here, so adding an argument
later breaks no module.

Hooks marked *per organisation* are called only for the modules the current organisation has
enabled (core's own implementations always take part).

Versions and deprecation. :data:`HOOKS_VERSION` is the version of this contract, ``"X.Y"``. Adding
a hook or an optional argument raises ``Y`` (nothing breaks: pluggy passes an implementation only
the arguments it names) and the spec's docstring says ``.. versionadded:: X.Y``. A hook or argument
that is going away first stays for one release marked with pluggy's ``warn_on_impl`` (the hook) or
``warn_on_impl_args`` (an argument), built with :func:`deprecated`: every module implementing it
then gets a :class:`DeprecationWarning` naming the replacement when it is loaded (shown by
``homecoming plugins``). Only the release after that removes it, and raises ``X``. A module that
needs a newer contract than the running Homecoming says so with ``Module(requires_hooks="X.Y")``
and is not loaded, with that reason, by an older one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # hook specs are never resolved at run time by Litestar
    import click
    from sqlalchemy.orm import Session

    from core.context import Context
    from core.models import Case, Event, Organisation, User
    from core.contributions import Breakdown, CaseTab, DashboardPanel, EventKind, Indicator, MenuItem, Module, Permission

hookspec = pluggy.HookspecMarker("homecoming")

HOOKS_VERSION = "0.3"
"""The version of the hook contract (``"X.Y"``): ``Y`` grows when hooks or optional arguments are
added, ``X`` when a deprecated hook or argument is removed. Compared with ``Module.requires_hooks``."""

PER_ORGANISATION = frozenset({
    "register_menu_items",
    "register_case_tabs",
    "register_dashboard_panels",
    "register_report_indicators",
    "register_report_breakdowns",
    "on_event_recorded",
    "on_case_status_changed",
    "load_demo_data",
})
"""The hooks called only for the modules the organisation concerned has enabled (and core)."""


def deprecated(what: str, instead: str, removed_in: str) -> DeprecationWarning:
    """The warning a deprecated hook or argument gives the modules that implement it, for
    ``@hookspec(warn_on_impl=deprecated(...))`` or ``warn_on_impl_args={"arg": deprecated(...)}``.

    :param what: the hook or argument going away (``"register_case_tabs(kase)"``).
    :param instead: what to use instead, as a phrase (``"take case instead"``).
    :param removed_in: the hook version (:data:`HOOKS_VERSION`) that removes it.
    """
    return DeprecationWarning(f"{what} is deprecated and will be removed in hooks {removed_in}: {instead}")


def version_tuple(version: str) -> tuple[int, ...]:
    """``"0.12"`` -> ``(0, 12)``, for comparing hook versions; a :class:`ValueError` otherwise."""
    return tuple(int(part) for part in version.split("."))

# --- start-up: called once for every installed module -------------------------------------------


@hookspec(firstresult=True)
def register_module() -> Module:
    """Describe the module: its label, routes, templates, migrations, translations and static files.

    Called once at start-up, separately for each installed module, so that core knows which
    module contributed what. Every module must implement it.

    :return: a :class:`~core.plugin_api.Module`.

    .. versionadded:: 0.1
    """


@hookspec
def register_permissions() -> list[Permission]:
    """Declare the permissions the module's routes and actions require.

    Called once at start-up. A role holds a permission when the permission lists it in
    ``roles``. Names start with the module's name (``training.enrol``); a module that declares
    any other name is not loaded, so it cannot redefine who holds a permission of core or of
    another module.

    :return: a list of :class:`~core.plugin_api.Permission`.

    .. versionadded:: 0.1
    """


@hookspec
def register_event_kinds() -> list[EventKind]:
    """Declare the kinds of timeline event the module writes, each named ``<module>.<what>``.

    Called once at start-up. Events of a module that an organisation has disabled are hidden from
    that organisation's timelines and filters.

    :return: a list of :class:`~core.plugin_api.EventKind`.

    .. versionadded:: 0.1
    """


@hookspec
def register_cli_commands() -> list[click.Command]:
    """Add commands to the ``homecoming`` console script.

    Called once when the CLI starts.

    :return: a list of ``click.Command`` objects (or groups).

    .. versionadded:: 0.1
    """


# --- per request, per organisation --------------------------------------------------------------


@hookspec
def register_menu_items(organisation: Organisation) -> list[MenuItem]:
    """Entries for the main navigation. *Per organisation.*

    :param organisation: the organisation the page is shown for.
    :return: a list of :class:`~core.plugin_api.MenuItem`; core shows those whose permission the
        user holds, ordered by ``order``.

    .. versionadded:: 0.1
    """


@hookspec
def register_case_tabs(case: Case) -> list[CaseTab]:
    """Tabs on the case page. *Per organisation.*

    :param case: the case being shown.
    :return: a list of :class:`~core.plugin_api.CaseTab`.

    .. versionadded:: 0.1
    """


@hookspec
def register_dashboard_panels(organisation: Organisation) -> list[DashboardPanel]:
    """Panels added to the dashboard. *Per organisation.*

    :param organisation: the organisation the dashboard is shown for.
    :return: a list of :class:`~core.plugin_api.DashboardPanel`.

    .. versionadded:: 0.1
    """


@hookspec
def register_report_indicators(organisation: Organisation) -> list[Indicator]:
    """Figures the module reports month by month on the programme dashboard
    (``/reports/programme``) and in its CSV and Excel downloads. *Per organisation.*

    Called for each view of the dashboard; the indicators of a module the organisation has not
    enabled never appear. Each indicator's ``monthly(ctx, first, last)`` is then called once for
    the whole range of months shown, so it must answer every month with one or two queries
    (grouped by day, added up by month with :func:`core.plugin_api.by_month`), never one query
    per month.

    :param organisation: the organisation the dashboard is shown for.
    :return: a list of :class:`~core.plugin_api.Indicator`, keys ``<module>.<what>``; core shows
        those whose permission the user holds, ordered by ``order``.

    .. versionadded:: 0.2
    """


@hookspec
def register_report_breakdowns(organisation: Organisation) -> list[Breakdown]:
    """Totals over the programme dashboard's range split by dimensions, per currency (the
    ledger's spending by module and fund). *Per organisation.*

    Called for each view of the dashboard; each breakdown's ``totals(ctx, first, last)`` is then
    called once for the range, and must answer with a fixed number of queries.

    :param organisation: the organisation the dashboard is shown for.
    :return: a list of :class:`~core.plugin_api.Breakdown`; core shows those whose permission the
        user holds, ordered by ``order``.

    .. versionadded:: 0.2
    """


# --- reactions, inside the transaction of the action that caused them ---------------------------


@hookspec
def on_event_recorded(session: Session, event: Event, case: Case) -> None:
    """React to a timeline event just added (flushed, not committed). *Per organisation.*

    Runs inside the same database transaction as the action: anything added to ``session``
    commits or rolls back with it. Raise :class:`core.plugin_api.ActionRefused` to refuse it.

    .. versionadded:: 0.1
    """


@hookspec
def on_case_status_changed(session: Session, case: Case, old_status: str, new_status: str) -> None:
    """React to a case moving from ``old_status`` to ``new_status``. *Per organisation.*

    Runs inside the transaction of the change, after the status event is flushed.

    .. versionadded:: 0.1
    """


@hookspec
def verify_records(session: Session, organisation: Organisation) -> list[str]:
    """Check the module's own tamper evidence for one organisation, recording nothing.

    Called by ``homecoming restore`` for every organisation after a backup is brought back (the
    ledger recomputes each book's hash chain). Return one line per problem found, ``[]`` when all
    holds; do not write to ``session``.

    :param organisation: the organisation to check.
    :return: a list of problems, as sentences for the operator.

    .. versionadded:: 0.2
    """


# --- data protection (docs/privacy.md) -----------------------------------------------------------


@hookspec
def person_data(ctx: Context, person_id: int) -> dict[str, Any] | None:
    """What the module holds about one person of ``ctx``'s organisation, for the person's copy of
    their data (a data-subject access request, ``/persons/{id}/export.json``).

    Called for every installed module, enabled for the organisation or not (a module switched off
    still holds what it recorded), each separately; the answer is shown under the module's name.
    Include the module's rows about the person and about the person's cases (``ctx.org_id``
    only), as JSON values: dates as ISO strings, amounts as decimal strings (never floats),
    attachments by their metadata only. Read only; write nothing.

    :param ctx: the context of the administrator asking for the export.
    :param person_id: the person (of ``ctx.org_id``).
    :return: a JSON-serialisable ``dict``, or ``None`` when the module holds nothing about them.

    .. versionadded:: 0.3
    """


@hookspec
def anonymise_case(ctx: Context, case_id: int) -> None:
    """Erase what identifies the person in the module's records of one case, when the case is
    anonymised after the organisation's retention period (``core.services.privacy``).

    Called for every installed module, inside the transaction of the anonymisation (after core
    has anonymised the case and before it commits). Blank free text (notes, descriptions,
    addresses below the district, names); keep what the module's figures count (dates, states,
    amounts, categories), so its reports do not change. Never touch the ledger: its entries and
    amounts stay, so the books still balance. A file attached to the case is erased with
    :func:`core.plugin_api.erase_attachments`. Raise nothing for a case the module knows nothing
    of.

    :param ctx: the context of whoever anonymises (an administrator, or the command line).
    :param case_id: the case (of ``ctx.org_id``), already closed past the retention period.

    .. versionadded:: 0.3
    """


# --- demo data ----------------------------------------------------------------------------------


@hookspec
def load_demo_data(
    session: Session,
    organisation: Organisation,
    cases: list[Case],
    staff: dict[str, User],
    today: date,
    context_for: Callable[[User, date], Context],
) -> None:
    """Add the module's demo records for ``organisation`` (only called when it enables the module).

    :param cases: the organisation's demo cases, at every status.
    :param staff: the organisation's demo staff by role name.
    :param today: the date the demo data is built around.
    :param context_for: ``context_for(user, day)`` is the service context a request of that staff
        member would get on that day (their role's permissions, the organisation's modules), so
        demo data goes through the module's own services and ``record_event`` as users' actions
        do. Its ``today`` may be moved on as the demo story goes.

    .. versionadded:: 0.1
    """
