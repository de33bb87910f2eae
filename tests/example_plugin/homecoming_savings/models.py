"""The module's table, on core's shared metadata so that Alembic sees one schema."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import Base

CURRENCIES = {"USD": 2, "KHR": 2}
"""Currencies a deposit may be made in, with their ISO 4217 number of decimal places."""


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("12.50")`` USD -> ``1250``; the amount must not have more decimals than allowed."""
    scaled = amount.scaleb(CURRENCIES[currency])
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {CURRENCIES[currency]} decimal places")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """``1250`` USD -> ``Decimal("12.50")``."""
    return Decimal(minor).scaleb(-CURRENCIES[currency])


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Deposit(Base):
    """Money a participant put aside, in integer minor units of ``currency`` (never a float)."""

    __tablename__ = "savings_deposits"
    __table_args__ = (
        Index("ix_savings_deposits_org_case", "org_id", "case_id", "deposited_on"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    deposited_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.currency)
