"""Core's own contributions, made through the same hooks the modules use."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from core.i18n import N_
from core.i18n import lazy_gettext as _l
from core.models import Role
from core.contributions import EventKind, MenuItem, Permission, hookimpl

EVERYONE = frozenset(Role)
CASEWORK = frozenset({Role.admin, Role.case_manager})
# Aggregate figures the NGO publishes: everyone who runs or audits the programme. Not ``viewer``,
# the read-only seat for volunteers and visitors: published figures are reviewed before release.
REPORTS = frozenset({Role.admin, Role.case_manager, Role.programme_officer, Role.finance, Role.auditor})


class FamilyContactPayload(BaseModel):
    contact: Literal["visit", "phone", "message", "other"] = Field("visit", title=N_("How"))
    who: str = Field("", max_length=200, title=N_("Who"))


class FollowUpVisitPayload(BaseModel):
    """A follow-up visit and the outcomes seen at it (docs/outcomes.md).

    Every outcome is optional, and left out of the stored payload when not given, so that visits
    recorded before it existed and visits recorded without it look the same. ``work`` is read by
    the training report ("certified people employed or running a business at follow-up").
    """

    place: Literal["home", "workplace", "office", "phone"] = Field("home", title=N_("Where"))
    wellbeing: Literal["good", "fair", "poor"] = Field("fair", title=N_("How they are doing"))
    work: Literal["employed", "own_business", "studying", "looking", "not_working"] | None = Field(
        None, title=N_("Work"), exclude_if=lambda value: value is None
    )
    housing: Literal["family_home", "own_home", "rented", "shelter", "homeless"] | None = Field(
        None, title=N_("Housing"), exclude_if=lambda value: value is None
    )
    family: Literal["living_with_family", "in_contact", "strained", "no_contact"] | None = Field(
        None, title=N_("Family situation"), exclude_if=lambda value: value is None
    )
    # An amount, not a band: bands can be drawn from amounts later, not the other way round. The
    # currency is the one it was earned in (USD or KHR, as the ledger); never a float.
    monthly_income: Decimal | None = Field(
        None, ge=0, max_digits=12, decimal_places=2, title=N_("Monthly income"), exclude_if=lambda value: value is None
    )
    income_currency: Literal["USD", "KHR"] | None = Field(
        None, title=N_("Currency of the income"), validate_default=True, exclude_if=lambda value: value is None
    )

    @field_validator("income_currency")
    @classmethod
    def _income_has_a_currency(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("monthly_income") is not None:
            raise ValueError(N_("Choose the currency of the income."))
        return value


REOFFENCE_KIND = "core.reoffended"
"""The event that records a re-offence (its stage, the date of the offence, who told us)."""

COUNTED_STAGES = ("arrested", "charged", "convicted")
"""Stages of a re-offence that count in the recidivism figures; a suspicion does not."""


class ReoffencePayload(BaseModel):
    """A re-offence. The event's own date is the day staff learnt of it; ``offence_date`` is the
    day of the offence (the recidivism report dates the re-offence by it when it is known).
    Notes go in the event's summary, as for every event."""

    stage: Literal["suspected", "arrested", "charged", "convicted"] = Field("arrested", title=N_("Stage"))
    offence_date: date | None = Field(None, title=N_("Date of the offence"))
    source: Literal["police", "court", "family", "self_report", "partner", "community", "other"] | None = Field(
        None, title=N_("Source"), exclude_if=lambda value: value is None
    )

    @field_validator("offence_date")
    @classmethod
    def _not_in_the_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError(N_("The date cannot be in the future."))
        return value


@hookimpl
def register_permissions() -> list[Permission]:
    return [
        Permission("dashboard.view", _l("See the dashboard"), EVERYONE),
        Permission("persons.view", _l("See persons"), EVERYONE),
        Permission("persons.edit", _l("Create and edit persons"), CASEWORK),
        Permission("persons.consent", _l("Record and withdraw a person's consent"), CASEWORK),
        Permission("persons.export_all", _l("Download everything held about a person (their copy of their data)"), frozenset({Role.admin})),
        Permission("privacy.anonymise", _l("Anonymise closed cases after the retention period"), frozenset({Role.admin})),
        Permission("cases.view", _l("See cases"), EVERYONE),
        Permission("cases.edit", _l("Create and edit cases"), CASEWORK),
        Permission("cases.status", _l("Move cases through their statuses"), CASEWORK),
        Permission(
            "events.record",
            _l("Record timeline events"),
            frozenset({Role.admin, Role.case_manager, Role.programme_officer}),
        ),
        Permission("reports.view", _l("See the reports"), REPORTS),
        Permission("admin.modules", _l("Enable and disable modules"), frozenset({Role.admin})),
        Permission("admin.staff", _l("Manage staff and roles"), frozenset({Role.admin})),
        Permission("admin.settings", _l("Change the organisation's settings (follow-up policy)"), frozenset({Role.admin})),
        Permission(
            "admin.audit",
            _l("See the audit trail: who created, changed, viewed or exported records"),
            frozenset({Role.admin, Role.auditor}),
        ),
        # Held by administrators and by the roles each organisation chooses (Administration, "Data
        # protection"); core.auth.load_current_user adds it per request (docs/security.md "Access").
        Permission(
            "records.sensitive",
            _l("See and edit medical notes and offence details (the organisation chooses the roles)"),
            frozenset({Role.admin}),
        ),
        Permission("data.import", _l("Import persons and cases from files"), frozenset({Role.admin})),
        Permission("data.export", _l("Download lists as CSV or Excel"), REPORTS),
        Permission("account", _l("Use one's own account"), EVERYONE),
    ]


@hookimpl
def register_event_kinds() -> list[EventKind]:
    return [
        EventKind("core.case_opened", _l("Case opened"), "◆"),
        EventKind("core.status_changed", _l("Status changed"), "➜"),
        EventKind("core.goal_changed", _l("Release plan"), "◎"),
        EventKind("core.note", _l("Note"), "✎", manual=True),
        EventKind("core.family_contact", _l("Family contact"), "☎", FamilyContactPayload, manual=True),
        EventKind("core.follow_up_visit", _l("Follow-up visit"), "✓", FollowUpVisitPayload, manual=True),
        EventKind(REOFFENCE_KIND, _l("Re-offence"), "⚠", ReoffencePayload, manual=True),
        EventKind("core.correction", _l("Correction"), "↺"),
    ]


@hookimpl
def register_menu_items() -> list[MenuItem]:
    return [
        MenuItem(_l("Dashboard"), "/", "dashboard.view", order=0),
        MenuItem(_l("Cases"), "/cases", "cases.view", order=10),
        MenuItem(_l("Releases"), "/releases", "cases.view", order=12),
        MenuItem(_l("Follow-ups"), "/follow-ups", "cases.view", order=15),
        MenuItem(_l("Persons"), "/persons", "persons.view", order=20),
        MenuItem(_l("Reports"), "/reports", "reports.view", order=800),
        MenuItem(_l("Import"), "/imports", "data.import", order=850),
        MenuItem(_l("Administration"), "/admin", "admin.modules", order=900),
        MenuItem(_l("Audit trail"), "/admin/audit", "admin.audit", order=910),
    ]
