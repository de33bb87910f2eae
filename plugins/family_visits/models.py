"""The module's tables, on core's shared metadata so that Alembic sees one schema.

Every table carries ``org_id``; services filter on it. Money is integer minor units of the
currency beside it (USD cents, whole riel), never float. Ledger rows (funds, journal entries) are
referred to by code or plain integer id, without foreign keys: the ledger is reached through
``ledger.api`` only.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.plugin_api import Base


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class VisitSettings(Base):
    """The organisation's settings of the module: the fund subsidies are charged to and the
    per-visit limit in each currency above which a manager's approval is needed."""

    __tablename__ = "family_visit_settings"
    __table_args__ = (
        CheckConstraint("limit_usd_minor IS NULL OR limit_usd_minor > 0", name="limit_usd_positive"),
        CheckConstraint("limit_khr_minor IS NULL OR limit_khr_minor > 0", name="limit_khr_positive"),
    )

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    fund_code: Mapped[str | None] = mapped_column(String(60))  # ledger fund, by code
    limit_usd_minor: Mapped[int | None] = mapped_column(BigInteger)
    limit_khr_minor: Mapped[int | None] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    def limit_minor(self, currency: str) -> int | None:
        return self.limit_usd_minor if currency == "USD" else self.limit_khr_minor


class VisitPlan(Base):
    """A case's visit plan: who visits, from where to which prison, how often, and the subsidy
    per visit by cost item in one currency. One plan per case; setting it again changes it."""

    __tablename__ = "family_visit_plans"
    __table_args__ = (
        UniqueConstraint("org_id", "case_id", name="uq_family_visit_plans_org_case"),
        CheckConstraint("interval_months IN (1, 2, 3)", name="interval"),
        CheckConstraint("transport_minor >= 0 AND food_minor >= 0 AND accommodation_minor >= 0", name="items_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    village: Mapped[str] = mapped_column(String(120))
    prison: Mapped[str] = mapped_column(String(120))
    interval_months: Mapped[int] = mapped_column(Integer, default=1)
    starts_on: Mapped[date] = mapped_column(Date)  # the first day of the first month
    currency: Mapped[str] = mapped_column(String(3))
    transport_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    food_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    accommodation_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    members: Mapped[list[PlanMember]] = relationship(order_by="PlanMember.id", lazy="selectin", cascade="all, delete-orphan")

    @property
    def subsidy_minor(self) -> int:
        return self.transport_minor + self.food_minor + self.accommodation_minor


class PlanMember(Base):
    """A family member who visits under the plan (a person linked to the prisoner)."""

    __tablename__ = "family_visit_plan_members"
    __table_args__ = (UniqueConstraint("plan_id", "person_id", name="uq_family_visit_plan_members_plan_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("family_visit_plans.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(20))


class Visit(Base):
    """A visit that took place, and the subsidy paid for it (if any), written with its journal
    entry in one transaction.

    ``period`` is the first day of the plan period the subsidy belongs to; it is set only for a
    subsidised visit, and ``(plan_id, period)`` is unique, so the database itself refuses a second
    subsidy in one period (NULLs do not collide, on SQLite and PostgreSQL alike).
    """

    __tablename__ = "family_visits"
    __table_args__ = (
        UniqueConstraint("plan_id", "period", name="uq_family_visits_plan_period"),
        Index("ix_family_visits_org_day", "org_id", "visited_on"),
        Index("ix_family_visits_plan_day", "plan_id", "visited_on"),
        CheckConstraint("payment IN ('none', 'cash', 'mobile_money')", name="payment"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("transport_minor >= 0 AND food_minor >= 0 AND accommodation_minor >= 0", name="items_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("family_visit_plans.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    visited_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(String(2000), default="")
    prison: Mapped[str] = mapped_column(String(120))  # as planned on the day (the sheet groups by it)
    payment: Mapped[str] = mapped_column(String(20), default="none")
    period: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(String(3))
    transport_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    food_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    accommodation_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str] = mapped_column(String(60), default="")
    paid_to_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_note: Mapped[str] = mapped_column(String(500), default="")
    fund_code: Mapped[str | None] = mapped_column(String(60))
    txn_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    visitors: Mapped[list[VisitVisitor]] = relationship(order_by="VisitVisitor.id", lazy="selectin", cascade="all, delete-orphan")

    @property
    def subsidy_minor(self) -> int:
        return self.transport_minor + self.food_minor + self.accommodation_minor


class VisitVisitor(Base):
    """A family member who came on a visit."""

    __tablename__ = "family_visit_visitors"
    __table_args__ = (UniqueConstraint("visit_id", "person_id", name="uq_family_visit_visitors_visit_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("family_visits.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
