"""The module's tables, on core's shared metadata so that Alembic sees one schema.

Every table carries ``org_id``; services filter on it. Money is integer minor units of the
currency beside it (USD cents, whole riel), never float. Ledger rows (funds, journal entries,
accounts) are referred to by code, name or plain integer id, without foreign keys: the ledger is
reached through ``ledger.api`` only.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.plugin_api import Base


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SupportSettings(Base):
    """The organisation's settings of the module: the fund and accounts support is charged to
    and paid from, the default amounts (in ``currency``) and the ceiling per release in each
    currency."""

    __tablename__ = "release_support_settings"
    __table_args__ = (
        CheckConstraint("fare_minor >= 0 AND food_per_day_minor >= 0 AND night_rate_minor >= 0", name="defaults_not_negative"),
        CheckConstraint("ceiling_usd_minor IS NULL OR ceiling_usd_minor > 0", name="ceiling_usd_positive"),
        CheckConstraint("ceiling_khr_minor IS NULL OR ceiling_khr_minor > 0", name="ceiling_khr_positive"),
    )

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    fund_code: Mapped[str | None] = mapped_column(String(60))  # ledger fund, by code
    expense_account: Mapped[str] = mapped_column(String(200), default="Expenses:Programme:Release-Support")
    pay_from_usd: Mapped[str | None] = mapped_column(String(200))
    pay_from_khr: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="KHR")  # of the default amounts
    fare_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    food_per_day_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    night_rate_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    ceiling_usd_minor: Mapped[int | None] = mapped_column(BigInteger)
    ceiling_khr_minor: Mapped[int | None] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    def pay_from(self, currency: str) -> str | None:
        return self.pay_from_usd if currency == "USD" else self.pay_from_khr

    def ceiling_minor(self, currency: str) -> int | None:
        return self.ceiling_usd_minor if currency == "USD" else self.ceiling_khr_minor


class StockItem(Base):
    """A kind of thing the organisation keeps in stock for starter packs (soap, a mosquito net,
    rice 5 kg), valued in one currency, with the level at or below which it is low."""

    __tablename__ = "release_support_items"
    __table_args__ = (
        UniqueConstraint("org_id", "name", name="uq_release_support_items_org_name"),
        CheckConstraint("low_at >= 0", name="low_at_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    low_at: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class StockReceipt(Base):
    """Stock bought and received, posted to the ledger as an asset (Dr the stock account, Cr the
    account it was paid from) in the same transaction."""

    __tablename__ = "release_support_receipts"
    __table_args__ = (
        Index("ix_release_support_receipts_org_item", "org_id", "item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_cost_minor > 0", name="unit_cost_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("release_support_items.id"))
    received_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    supplier: Mapped[str] = mapped_column(String(120), default="")
    paid_from: Mapped[str] = mapped_column(String(200))
    txn_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_cost_minor


class ReleaseRecord(Base):
    """What a person was given on the day of release: fare home, food, nights of short-term
    accommodation (in ``currency``) and starter-pack items from stock, posted in one journal
    entry. A correction reverses the entry; the record then counts as reversed (its items go
    back to stock) and stays visible."""

    __tablename__ = "release_support_records"
    __table_args__ = (
        Index("ix_release_support_records_org_day", "org_id", "given_on"),
        Index("ix_release_support_records_org_case", "org_id", "case_id"),
        CheckConstraint("fare_minor >= 0 AND food_minor >= 0 AND night_rate_minor >= 0", name="amounts_not_negative"),
        CheckConstraint("food_days >= 0 AND nights >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    given_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    fare_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    food_days: Mapped[int] = mapped_column(Integer, default=0)
    food_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # the food money in all
    nights: Mapped[int] = mapped_column(Integer, default=0)
    night_rate_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(String(2000), default="")
    fund_code: Mapped[str | None] = mapped_column(String(60))
    txn_id: Mapped[int | None] = mapped_column(Integer)
    reversal_txn_id: Mapped[int | None] = mapped_column(Integer)
    reversed_on: Mapped[date | None] = mapped_column(Date)
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reversal_reason: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    lines: Mapped[list[ReleaseLine]] = relationship(order_by="ReleaseLine.id", lazy="selectin", cascade="all, delete-orphan")

    @property
    def accommodation_minor(self) -> int:
        return self.nights * self.night_rate_minor

    @property
    def cash_minor(self) -> int:
        """Fare, food and accommodation together, in ``currency``."""
        return self.fare_minor + self.food_minor + self.accommodation_minor

    @property
    def reversed(self) -> bool:
        return self.reversal_txn_id is not None


class ReleaseLine(Base):
    """A starter-pack item handed over: how many, and their cost at the item's average cost."""

    __tablename__ = "release_support_lines"
    __table_args__ = (
        UniqueConstraint("record_id", "item_id", name="uq_release_support_lines_record_item"),
        Index("ix_release_support_lines_org_item", "org_id", "item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("cost_minor >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("release_support_records.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("release_support_items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    cost_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class ChecklistStep(Base):
    """One ticked step of a case's release-day checklist (collected from the prison, reached
    home, a document in hand), with who ticked it and when. Ticking a step again updates it (the
    timeline keeps every tick)."""

    __tablename__ = "release_support_checklist"
    __table_args__ = (UniqueConstraint("case_id", "step", name="uq_release_support_checklist_case_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    step: Mapped[str] = mapped_column(String(40))
    done_on: Mapped[date] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(String(200), default="")  # who collected; where; the document's number
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ticked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
