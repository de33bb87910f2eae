"""The public plugin API: everything a programme module may import from ``core``.

A module is a package registered under the entry-point group ``homecoming.plugins``; the entry
point's name is the module's name and its target is the module's ``hooks`` file::

    [project.entry-points."homecoming.plugins"]
    savings = "homecoming_savings.hooks"

In ``hooks.py``, implement the hooks of :mod:`core.hookspecs` with :data:`hookimpl`. The first
one every module implements is ``register_module``, which names what the module brings::

    from core.plugin_api import Module, hookimpl

    @hookimpl
    def register_module() -> Module:
        return Module(label="Savings groups", route_handlers=[...], templates=HERE / "templates")

Names not listed in ``__all__`` here are private to core and may change without notice.
"""

from __future__ import annotations

from core.context import Context
from core.contributions import (
    ALL_ROLES,
    PROJECT,
    CaseTab,
    DashboardPanel,
    EventKind,
    MenuItem,
    Module,
    Permission,
    hookimpl,
)
from core.db import Base
from core.errors import ActionRefused, InvalidInput, RecordNotFound
from core.i18n import format_date, format_money, gettext, lazy_gettext, ngettext
from core.models import Case, CaseStatus, Event, Organisation, Person, Role, User
from core.services.cases import get_case
from core.services.events import record_event
from core.services.persons import get_person
from core.web.module_tabs import module_events_tab

__all__ = [
    "ALL_ROLES",
    "PROJECT",
    "ActionRefused",
    "Base",
    "Case",
    "CaseStatus",
    "CaseTab",
    "Context",
    "DashboardPanel",
    "Event",
    "EventKind",
    "MenuItem",
    "Module",
    "Organisation",
    "Permission",
    "RecordNotFound",
    "Person",
    "Role",
    "User",
    "format_date",
    "format_money",
    "gettext",
    "get_case",
    "get_person",
    "hookimpl",
    "InvalidInput",
    "lazy_gettext",
    "module_events_tab",
    "ngettext",
    "record_event",
]
