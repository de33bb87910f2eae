"""Core's own contributions, made through the same hooks the modules use."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from core.i18n import N_
from core.i18n import lazy_gettext as _l
from core.models import Role
from core.contributions import EventKind, MenuItem, Permission, hookimpl

EVERYONE = frozenset(Role)
CASEWORK = frozenset({Role.admin, Role.case_manager})


class FamilyContactPayload(BaseModel):
    contact: Literal["visit", "phone", "message", "other"] = Field("visit", title=N_("How"))
    who: str = Field("", max_length=200, title=N_("Who"))


class FollowUpVisitPayload(BaseModel):
    place: Literal["home", "workplace", "office", "phone"] = Field("home", title=N_("Where"))
    wellbeing: Literal["good", "fair", "poor"] = Field("fair", title=N_("How they are doing"))
    # Optional, and left out of the stored payload when not given, so that visits recorded
    # before it existed and visits recorded without it look the same. Read by the training
    # report ("certified people employed or running a business at follow-up").
    work: Literal["employed", "own_business", "studying", "looking", "not_working"] | None = Field(
        None, title=N_("Work"), exclude_if=lambda value: value is None
    )


class ReoffencePayload(BaseModel):
    stage: Literal["suspected", "arrested", "charged", "convicted"] = Field("arrested", title=N_("Stage"))
    offence_date: date | None = Field(None, title=N_("Date of the offence"))


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("dashboard.view", _l("See the dashboard"), EVERYONE),
        Permission("persons.view", _l("See persons"), EVERYONE),
        Permission("persons.edit", _l("Create and edit persons"), CASEWORK),
        Permission("cases.view", _l("See cases"), EVERYONE),
        Permission("cases.edit", _l("Create and edit cases"), CASEWORK),
        Permission("cases.status", _l("Move cases through their statuses"), CASEWORK),
        Permission(
            "events.record",
            _l("Record timeline events"),
            frozenset({Role.admin, Role.case_manager, Role.programme_officer}),
        ),
        Permission("admin.modules", _l("Enable and disable modules"), frozenset({Role.admin})),
        Permission("admin.staff", _l("Manage staff and roles"), frozenset({Role.admin})),
        Permission("account", _l("Use one's own account"), EVERYONE),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind("core.case_opened", _l("Case opened"), "◆"),
        EventKind("core.status_changed", _l("Status changed"), "➜"),
        EventKind("core.note", _l("Note"), "✎", manual=True),
        EventKind("core.family_contact", _l("Family contact"), "☎", FamilyContactPayload, manual=True),
        EventKind("core.follow_up_visit", _l("Follow-up visit"), "✓", FollowUpVisitPayload, manual=True),
        EventKind("core.reoffence", _l("Re-offence"), "⚠", ReoffencePayload, manual=True),
        EventKind("core.correction", _l("Correction"), "↺"),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [
        MenuItem(_l("Dashboard"), "/", "dashboard.view", order=0),
        MenuItem(_l("Cases"), "/cases", "cases.view", order=10),
        MenuItem(_l("Persons"), "/persons", "persons.view", order=20),
        MenuItem(_l("Administration"), "/admin", "admin.modules", order=900),
    ]
