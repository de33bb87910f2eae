"""The module's tables, on core's shared metadata so that Alembic sees one schema.

Every table carries ``org_id``; services filter on it. Money is integer minor units of the
currency beside it (USD cents, whole riel), never float. Ledger rows (funds, journal entries,
accounts) are referred to by code, name or plain integer id, without foreign keys: the ledger is
reached through ``ledger.api`` only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CommunitySettings(Base):
    """The organisation's settings of the module: the fund meeting costs are charged to (none:
    general funds), the expense account, and the account paid from in each currency."""

    __tablename__ = "community_settings"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    fund_code: Mapped[str | None] = mapped_column(String(60))  # ledger fund, by code
    expense_account: Mapped[str] = mapped_column(String(200), default="Expenses:Programme:Community")
    pay_from_usd: Mapped[str | None] = mapped_column(String(200))
    pay_from_khr: Mapped[str | None] = mapped_column(String(200))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    def pay_from(self, currency: str) -> str | None:
        return self.pay_from_usd if currency == "USD" else self.pay_from_khr


class Partner(Base):
    """A community partner near families: a church, a pagoda, a commune office, an employer, a
    health centre. Referrals go only to partners with a signed data-sharing agreement."""

    __tablename__ = "community_partners"
    __table_args__ = (
        UniqueConstraint("org_id", "name", name="uq_community_partners_org_name"),
        Index("ix_community_partners_org_place", "org_id", "province", "district", "commune"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(160))
    contact_person: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    village: Mapped[str] = mapped_column(String(100), default="")
    commune: Mapped[str] = mapped_column(String(100), default="")
    district: Mapped[str] = mapped_column(String(100), default="")
    province: Mapped[str] = mapped_column(String(100), default="")
    helps_with: Mapped[str] = mapped_column(String(1000), default="")
    agreement_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, onupdate=_utcnow)


class Referral(Base):
    """A case handed to a partner for a purpose: ``sent``, then ``accepted`` or ``declined``,
    then (accepted) ``completed``, with the partner's feedback. Each step is on the timeline."""

    __tablename__ = "community_referrals"
    __table_args__ = (
        Index("ix_community_referrals_org_status", "org_id", "status", "referred_on"),
        Index("ix_community_referrals_org_case", "org_id", "case_id"),
        Index("ix_community_referrals_org_partner", "org_id", "partner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("community_partners.id"))
    purpose: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="sent")
    referred_on: Mapped[date] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)  # accepted or declined
    completed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(2000), default="")
    feedback: Mapped[str] = mapped_column(String(4000), default="")
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class Meeting(Base):
    """A peer meeting where former prisoners share how they live since release."""

    __tablename__ = "community_meetings"
    __table_args__ = (Index("ix_community_meetings_org_day", "org_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    facilitator: Mapped[str] = mapped_column(String(120))
    topic: Mapped[str] = mapped_column(String(200))
    reflections: Mapped[str] = mapped_column(String(4000), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class Attendance(Base):
    """Someone who came to a meeting: a former prisoner (``case_id`` set: the person of that
    case) or an invited family member (``case_id`` empty, ``family_of`` the case they came with)."""

    __tablename__ = "community_attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "person_id", name="uq_community_attendance_meeting_person"),
        Index("ix_community_attendance_org_case", "org_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("community_meetings.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    family_of_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    reflection: Mapped[str] = mapped_column(String(1000), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class MeetingCost(Base):
    """A small cost of a meeting (refreshments, participants' transport), paid and posted to the
    general book in the same transaction. A correction reverses its entry; the cost stays visible."""

    __tablename__ = "community_costs"
    __table_args__ = (
        Index("ix_community_costs_org_meeting", "org_id", "meeting_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("community_meetings.id"))
    item: Mapped[str] = mapped_column(String(20))
    paid_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_from: Mapped[str] = mapped_column(String(200))
    fund_code: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(500), default="")
    txn_id: Mapped[int | None] = mapped_column(Integer)
    reversal_txn_id: Mapped[int | None] = mapped_column(Integer)
    reversed_on: Mapped[date | None] = mapped_column(Date)
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversal_reason: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    @property
    def reversed(self) -> bool:
        return self.reversal_txn_id is not None
