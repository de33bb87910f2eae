"""The module's tables, on core's shared metadata so that Alembic sees one schema.

Every table carries ``org_id``; services filter on it. Money is integer minor units of the
currency beside it (USD cents, whole riel), never float. Journal entries are referred to by plain
integer id, without foreign keys: the ledger is reached through ``ledger.api`` only.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base

DEFAULT_EXPENSE = "Expenses:Schooling:Fees"
DEFAULT_PAY_FROM = {"USD": "Assets:Bank:USD", "KHR": "Assets:Cash:KHR"}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SchoolingSettings(Base):
    """The organisation's settings of the module: the expense account school fees are charged to
    and the cash or bank account they are paid from, per currency."""

    __tablename__ = "schooling_settings"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    expense_account: Mapped[str] = mapped_column(String(200), default=DEFAULT_EXPENSE)
    pay_from_usd: Mapped[str] = mapped_column(String(200), default=DEFAULT_PAY_FROM["USD"])
    pay_from_khr: Mapped[str] = mapped_column(String(200), default=DEFAULT_PAY_FROM["KHR"])
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    def pay_from(self, currency: str) -> str:
        return self.pay_from_usd if currency == "USD" else self.pay_from_khr


class Enrolment(Base):
    """A child of the case's person enrolled at a school for one school year, with the fee the
    school charges per month or per term. A child is enrolled at most once per school year (the
    database refuses a second row too)."""

    __tablename__ = "schooling_enrolments"
    __table_args__ = (
        UniqueConstraint("org_id", "child_id", "school_year", name="uq_schooling_enrolments_child_year"),
        Index("ix_schooling_enrolments_org_case", "org_id", "case_id"),
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint("fee_period IN ('month', 'term')", name="fee_period"),
        CheckConstraint("currency IN ('USD', 'KHR')", name="currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    school: Mapped[str] = mapped_column(String(160))
    grade: Mapped[str] = mapped_column(String(40))
    school_year: Mapped[str] = mapped_column(String(9))  # "2026-2027"
    fee_period: Mapped[str] = mapped_column(String(10), default="month")
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    enrolled_on: Mapped[date] = mapped_column(Date)
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class FeePayment(Base):
    """School fees paid for an enrolment, written with its journal entry in one transaction.

    Never edited: a wrong payment is reversed (the ledger posts the mirror entry, linked to the
    original) and stays on the list, marked reversed."""

    __tablename__ = "schooling_fee_payments"
    __table_args__ = (
        Index("ix_schooling_fee_payments_org_case", "org_id", "case_id", "paid_on"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("schooling_enrolments.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date] = mapped_column(Date)
    covers: Mapped[str] = mapped_column(String(120), default="")  # "October", "Term 1"
    reference: Mapped[str] = mapped_column(String(60), default="")
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
