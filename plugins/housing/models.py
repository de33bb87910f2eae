"""The housing module's tables, on core's shared metadata so that Alembic sees one schema.

Every table carries ``org_id``; services filter on it. Money is integer minor units of the
currency beside it (USD cents, whole riel), never float. Ledger rows (funds, journal entries) are
referred to by code or plain integer id, without foreign keys: the ledger is reached through
``ledger.api`` only. Files are core's ``attachments``; :class:`HousingAttachment` says which
record of the module each one belongs to and in what role.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.plugin_api import Base


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class HousingSettings(Base):
    """The organisation's settings of the module: the fund repairs are charged to, the budget
    ceiling per home (in one currency; quotes in the other are converted at the ledger's rate),
    the expense account and the accounts suppliers are paid from, per currency."""

    __tablename__ = "housing_settings"
    __table_args__ = (
        CheckConstraint("ceiling_minor IS NULL OR ceiling_minor > 0", name="ceiling_positive"),
        CheckConstraint("ceiling_currency IN ('USD', 'KHR')", name="ceiling_currency"),
    )

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    fund_code: Mapped[str | None] = mapped_column(String(60))  # ledger fund, by code
    ceiling_minor: Mapped[int | None] = mapped_column(BigInteger)
    ceiling_currency: Mapped[str] = mapped_column(String(3), default="USD")
    expense_account: Mapped[str] = mapped_column(String(200), default="Expenses:Programme:Housing")
    pay_from_usd: Mapped[str] = mapped_column(String(200), default="Assets:Bank:USD")
    pay_from_khr: Mapped[str] = mapped_column(String(200), default="Assets:Cash:KHR")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    def pay_from(self, currency: str) -> str:
        return self.pay_from_usd if currency == "USD" else self.pay_from_khr


class Assessment(Base):
    """A social worker's visit to the family home of a case: who lives there, what the home is
    built of, what is broken and how urgent it is. A case may be assessed again later; repairs
    are proposed under one assessment."""

    __tablename__ = "housing_assessments"
    __table_args__ = (
        Index("ix_housing_assessments_org_case", "org_id", "case_id"),
        CheckConstraint("urgency IN ('low', 'medium', 'high', 'urgent')", name="urgency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    assessed_on: Mapped[date] = mapped_column(Date)
    roof: Mapped[str] = mapped_column(String(20))
    walls: Mapped[str] = mapped_column(String(20))
    floor: Mapped[str] = mapped_column(String(20))
    broken: Mapped[str] = mapped_column(String(500))
    urgency: Mapped[str] = mapped_column(String(10))
    notes: Mapped[str] = mapped_column(String(2000), default="")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    household: Mapped[list[HouseholdMember]] = relationship(order_by="HouseholdMember.id", lazy="selectin", cascade="all, delete-orphan")


class HouseholdMember(Base):
    """A person living in the home at the assessment (the case's person or a linked relative)."""

    __tablename__ = "housing_household_members"
    __table_args__ = (UniqueConstraint("assessment_id", "person_id", name="uq_housing_household_members_assessment_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("housing_assessments.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(20))  # "self" for the case's own person


class Repair(Base):
    """One repair item of a home (a roof, a well, a latrine), from proposal to the family's
    sign-off. ``status`` follows proposed -> quoted -> approved (or sent back -> quoted again)
    -> in progress -> completed, or cancelled; the history is in the quotes, payments, progress
    rows and the case timeline."""

    __tablename__ = "housing_repairs"
    __table_args__ = (
        Index("ix_housing_repairs_org_status", "org_id", "status"),
        Index("ix_housing_repairs_org_case", "org_id", "case_id"),
        CheckConstraint(
            "status IN ('proposed', 'quoted', 'sent_back', 'approved', 'in_progress', 'completed', 'cancelled')", name="status"
        ),
        CheckConstraint("repair_type IN ('roof', 'walls', 'floor', 'water', 'sanitation', 'electricity', 'other')", name="repair_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("housing_assessments.id"))
    repair_type: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    planned_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    approved_quote_id: Mapped[int | None] = mapped_column(Integer)  # a quote of this repair
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    completion_note: Mapped[str] = mapped_column(String(500), default="")
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class Quote(Base):
    """A builder's or supplier's quote for a repair; a programme officer approves it (within the
    ceiling per home) or sends it back with a reason, which stays with it."""

    __tablename__ = "housing_quotes"
    __table_args__ = (
        Index("ix_housing_quotes_repair", "repair_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'approved', 'sent_back', 'not_chosen')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    repair_id: Mapped[int] = mapped_column(ForeignKey("housing_repairs.id"))
    supplier: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    quoted_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str] = mapped_column(String(500), default="")  # the reason it was sent back, or the approval note
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_on: Mapped[date | None] = mapped_column(Date)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class Payment(Base):
    """A payment to the supplier of the approved quote, written with its journal entry (and the
    invoice attached to that entry) in one transaction. A wrong payment is reversed in the ledger
    (``reversal_txn_id``), never edited."""

    __tablename__ = "housing_payments"
    __table_args__ = (
        Index("ix_housing_payments_org_case", "org_id", "case_id"),
        Index("ix_housing_payments_repair", "repair_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("kind IN ('advance', 'completion', 'other')", name="kind"),
        CheckConstraint("method IN ('bank_transfer', 'cash', 'mobile_money')", name="method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    repair_id: Mapped[int] = mapped_column(ForeignKey("housing_repairs.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    quote_id: Mapped[int] = mapped_column(ForeignKey("housing_quotes.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(60), default="")
    fund_code: Mapped[str] = mapped_column(String(60))
    account: Mapped[str] = mapped_column(String(200))  # paid from
    txn_id: Mapped[int | None] = mapped_column(Integer)
    reversal_txn_id: Mapped[int | None] = mapped_column(Integer)
    reversed_on: Mapped[date | None] = mapped_column(Date)
    reverse_reason: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    @property
    def reversed(self) -> bool:
        return self.reversal_txn_id is not None


class Progress(Base):
    """A note on the works with photos (the first one starts the repair)."""

    __tablename__ = "housing_progress"
    __table_args__ = (
        Index("ix_housing_progress_repair", "repair_id"),
        CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    repair_id: Mapped[int] = mapped_column(ForeignKey("housing_repairs.id"))
    recorded_on: Mapped[date] = mapped_column(Date)
    percent: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class HousingAttachment(Base):
    """Which file (core's ``attachments``) belongs to which record of the module, and as what:
    a ``photo`` of the home or the works, a builder's ``quote``, an ``invoice`` behind a payment,
    the family's ``signoff``. ``case_id`` is always set; the record it belongs to is one of
    ``assessment_id``, ``repair_id`` (with ``quote_id``, ``payment_id`` or ``progress_id``)."""

    __tablename__ = "housing_attachments"
    __table_args__ = (
        Index("ix_housing_attachments_org_case", "org_id", "case_id"),
        Index("ix_housing_attachments_repair", "repair_id"),
        UniqueConstraint("attachment_id", name="uq_housing_attachments_attachment"),
        CheckConstraint("role IN ('photo', 'quote', 'invoice', 'signoff')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"))
    role: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("housing_assessments.id"))
    repair_id: Mapped[int | None] = mapped_column(ForeignKey("housing_repairs.id"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("housing_quotes.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("housing_payments.id"))
    progress_id: Mapped[int | None] = mapped_column(ForeignKey("housing_progress.id"))
