"""The minimal core model: organisations, staff, persons, cases and the case timeline.

Every row that belongs to an NGO carries ``org_id``; every query the app makes filters on it
(see :mod:`core.services`). Events are append-only: the ORM refuses to update or delete them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    LargeBinary,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,

)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, refuse_changes


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def NameString(length: int = 200) -> String:  # noqa: N802 - reads like a type
    """A name column: case-insensitive on SQLite so a prefix ``LIKE`` can use its index."""
    return String(length).with_variant(String(length, collation="NOCASE"), "sqlite")


class Role(str, enum.Enum):
    """A staff member's role in one organisation."""

    admin = "admin"
    case_manager = "case_manager"
    programme_officer = "programme_officer"
    finance = "finance"
    auditor = "auditor"
    viewer = "viewer"


class CaseStatus(str, enum.Enum):
    """Where a case is on the passage from prison to home."""

    referred = "referred"
    pre_release = "pre_release"
    released = "released"
    follow_up = "follow_up"
    closed = "closed"


STATUS_ORDER = list(CaseStatus)


class CloseReason(str, enum.Enum):
    completed = "completed"
    re_offended = "re_offended"
    withdrew = "withdrew"
    transferred = "transferred"
    deceased = "deceased"
    lost_contact = "lost_contact"


class Sex(str, enum.Enum):
    female = "female"
    male = "male"
    other = "other"


class Relation(str, enum.Enum):
    """``relative`` is the person's <relation>: a link (A, B, parent) says B is A's parent."""

    parent = "parent"
    spouse = "spouse"
    child = "child"
    sibling = "sibling"
    guardian = "guardian"
    other = "other"


INVERSE_RELATION = {
    Relation.parent: Relation.child,
    Relation.child: Relation.parent,
    Relation.spouse: Relation.spouse,
    Relation.sibling: Relation.sibling,
    Relation.guardian: Relation.other,
    Relation.other: Relation.other,
}


class GoalArea(str, enum.Enum):
    housing = "housing"
    work = "work"
    family = "family"
    health = "health"
    documents = "documents"
    education = "education"


class GoalState(str, enum.Enum):
    not_started = "not_started"
    in_progress = "in_progress"
    met = "met"
    declined = "declined"


class Organisation(Base):
    """An NGO using Homecoming: every row of every table belongs to one (``org_id``)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    default_locale: Mapped[str] = mapped_column(String(10), default="en")
    # The follow-up policy (docs/follow_up.md): a visit at least every ``follow_up_interval``
    # days or calendar months after release, for ``follow_up_duration_months``; a visit overdue by
    # more than ``follow_up_escalate_days`` is shown to the case manager's supervisor.
    follow_up_interval: Mapped[int] = mapped_column(Integer, default=90)
    follow_up_interval_unit: Mapped[str] = mapped_column(String(6), default="days")  # "days" | "months"
    follow_up_duration_months: Mapped[int] = mapped_column(Integer, default=36)
    follow_up_escalate_days: Mapped[int] = mapped_column(Integer, default=30)
    # Which roles see a person's medical notes and a case's offence details (comma-separated
    # role names; docs/security.md "Access"). Administrators always do.
    sensitive_roles: Mapped[str] = mapped_column(String(200), default="admin,case_manager")
    # Closed cases are anonymised this many months after closing (empty: kept until an
    # administrator decides; docs/privacy.md).
    retention_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OrganisationModule(Base):
    """An installed plugin switched on or off for one organisation (absent means off)."""

    __tablename__ = "organisation_modules"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    module: Mapped[str] = mapped_column(String(60), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    """A person who signs in; a :class:`Membership` gives them a role in an organisation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(NameString(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", foreign_keys="Membership.user_id")


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(String(30))
    # Who overdue follow-ups of this staff member's cases escalate to (a staff member of the same
    # organisation); none set: the organisation's administrators.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()


class WebSession(Base):
    """A server-side login session; the cookie holds a random token, the row its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # For the idle timeout and the list of one's signed-in devices ("sign out everywhere").
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class CalendarFeed(Base):
    """A private iCalendar feed of one staff member's follow-up visits in one organisation.

    The URL carries a random token; the row keeps only its SHA-256, so the URL is shown once. A
    revoked feed answers 404; a new one replaces it.
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportBatch(Base):
    """A CSV or Excel file of persons or cases brought in by a user: checked (dry run) first,
    then imported whole or not at all. Kept as the record of who imported what, and when."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # "persons" | "cases"
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="checked")  # checked | imported
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_bad: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for the JSON API, bound to one user in one organisation."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Person(Base):
    """A participant or a family member, in one organisation."""

    __tablename__ = "persons"
    __table_args__ = (
        Index("ix_persons_org_name", "org_id", "name"),
        Index("ix_persons_org_name_km", "org_id", "name_km"),
        # PostgreSQL compares case-sensitively: prefix search goes through lower(name).
        Index(
            "ix_persons_org_lower_name",
            "org_id",
            text("lower(name) text_pattern_ops"),
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_persons_org_lower_name_km",
            "org_id",
            text("lower(name_km) text_pattern_ops"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(NameString())
    name_km: Mapped[str | None] = mapped_column(NameString())
    sex: Mapped[Sex | None] = mapped_column(String(10))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    village: Mapped[str | None] = mapped_column(String(100))
    commune: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    # Sensitive: shown only to the roles in ``Organisation.sensitive_roles``.
    medical_notes: Mapped[str | None] = mapped_column(Text)
    # Set when the person's identifying data was removed after the retention period.
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class PersonLink(Base):
    """A family link: ``relative`` is ``person``'s ``relation``."""

    __tablename__ = "person_links"
    __table_args__ = (Index("ix_person_links_relative", "relative_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[Relation] = mapped_column(String(20))


class Case(Base):
    """One person's passage through one programme of one organisation."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_org_status", "org_id", "status"),
        Index("ix_cases_org_id", "org_id", "id"),  # newest first without sorting all cases
        Index("ix_cases_org_prisoner_number", "org_id", "prisoner_number"),
        Index("ix_cases_org_manager", "org_id", "case_manager_id", "status"),
        Index("ix_cases_org_prison", "org_id", "prison"),
        Index("ix_cases_org_expected_release", "org_id", "expected_release"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    case_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    programme: Mapped[str] = mapped_column(String(100), default="")
    prison: Mapped[str | None] = mapped_column(String(120))
    prisoner_number: Mapped[str | None] = mapped_column(String(60))
    sentence_start: Mapped[date | None] = mapped_column(Date)
    sentence_end: Mapped[date | None] = mapped_column(Date)
    expected_release: Mapped[date | None] = mapped_column(Date)
    actual_release: Mapped[date | None] = mapped_column(Date)
    status: Mapped[CaseStatus] = mapped_column(String(20), default=CaseStatus.referred)
    close_reason: Mapped[CloseReason | None] = mapped_column(String(20))
    closed_on: Mapped[date | None] = mapped_column(Date)
    opened_on: Mapped[date] = mapped_column(Date, default=date.today)
    # Sensitive: shown only to the roles in ``Organisation.sensitive_roles``.
    offence: Mapped[str | None] = mapped_column(Text)
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    person: Mapped[Person] = relationship(lazy="joined")
    case_manager: Mapped[User | None] = relationship(lazy="joined")


class CaseGoal(Base):
    """A goal of the release plan, by area, with its state and the next step."""

    __tablename__ = "case_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    area: Mapped[GoalArea] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[GoalState] = mapped_column(String(20), default=GoalState.not_started)
    next_step: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Event(Base):
    """One entry of a case timeline. Append-only: corrections are new events (``corrects_id``)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_case_kind_date", "case_id", "kind", "occurred_on"),
        Index("ix_events_case_date", "case_id", "occurred_on", "id"),
        # "Is this event corrected?" (the recidivism report asks it of every re-offence); partial:
        # only the few corrections are in it.
        Index(
            "ix_events_corrects",
            "corrects_id",
            sqlite_where=text("corrects_id IS NOT NULL"),
            postgresql_where=text("corrects_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(80))
    occurred_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))


class Attachment(Base):
    """A file staff attached to a record (a photo, a quote, an invoice), checked by its content.

    The bytes live in :class:`AttachmentContent`, in the database, so a file commits or rolls back
    with the change it belongs to and a backup holds it. Served at :attr:`url` only to signed-in
    users of the organisation (``core.web.files``); modules keep their own link tables to it.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key: Mapped[str] = mapped_column(String(43), unique=True)  # random, unguessable
    plugin: Mapped[str] = mapped_column(String(60))  # the module it belongs to
    filename: Mapped[str] = mapped_column(String(200))  # sanitised; for display and download only
    media_type: Mapped[str] = mapped_column(String(60))  # from the content, never from the browser
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def kind(self) -> str:
        """``"pdf"`` or ``"image"``."""
        return "pdf" if self.media_type == "application/pdf" else "image"

    @property
    def url(self) -> str:
        return f"/files/{self.key}"


class AttachmentContent(Base):
    """The bytes of one :class:`Attachment` (a table of its own, so lists never load them)."""

    __tablename__ = "attachment_contents"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditAction(str, enum.Enum):
    """What a user did to a record, as the audit trail records it."""

    created = "created"
    changed = "changed"
    viewed = "viewed"
    exported = "exported"


class AuditEntry(Base):
    """One line of the audit trail: who created, changed, viewed or exported a person's or a
    case's record, when, and from where (docs/security.md, "Audit trail").

    ``changes`` is ``{field: [old, new]}`` for ``created`` and ``changed`` (dates as ISO strings);
    for ``exported`` (``record_id`` empty: a whole list) it holds the list's filter and format.
    ``user_id`` is empty for what the command line or the demo did. Append-only: the ORM refuses to
    change or delete an entry and, in the database, so do the migration's triggers.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_org_record", "org_id", "record_type", "record_id", "at"),
        Index("ix_audit_entries_org_user", "org_id", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[AuditAction] = mapped_column(String(10))
    record_type: Mapped[str] = mapped_column(String(10))  # "person" | "case"
    record_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ConsentPurpose(str, enum.Enum):
    """What a person agreed to (docs/privacy.md)."""

    records = "records"  # keep and use their records in the programme
    share_with_partners = "share_with_partners"  # share what a referral needs with a partner
    contact_family = "contact_family"  # contact and visit their family
    photos = "photos"  # photographs and their story in reports to donors


class ConsentMethod(str, enum.Enum):
    """How consent was given."""

    signed = "signed"
    thumbprint = "thumbprint"
    verbal = "verbal"  # witnessed by the staff member who records it
    guardian = "guardian"


class Consent(Base):
    """A person's consent to one purpose, given on a day and possibly withdrawn later.

    Consent is a record of what happened: a withdrawal sets ``withdrawn_on`` (and who recorded
    it) and never deletes the row; consent given again is a new row.
    """

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_org_person", "org_id", "person_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    purpose: Mapped[ConsentPurpose] = mapped_column(String(40))
    method: Mapped[ConsentMethod] = mapped_column(String(20))
    given_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a timeline event or an audit entry."""


refuse_changes((Event,), AppendOnlyError, "timeline events are append-only; record a correction instead")
refuse_changes((AuditEntry,), AppendOnlyError, "the audit trail is append-only")


__all__ = [
    "ApiToken",
    "AppendOnlyError",
    "Attachment",
    "AttachmentContent",
    "AuditAction",
    "AuditEntry",
    "CalendarFeed",
    "Consent",
    "ConsentMethod",
    "ConsentPurpose",
    "Case",
    "CaseGoal",
    "CaseStatus",
    "CloseReason",
    "Event",
    "GoalArea",
    "GoalState",
    "ImportBatch",
    "Membership",
    "Organisation",
    "OrganisationModule",
    "Person",
    "PersonLink",
    "Relation",
    "Role",
    "Sex",
    "User",
    "WebSession",

]
