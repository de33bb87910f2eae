"""The module's tables, on core's shared metadata so that Alembic sees one schema.

Every table carries ``org_id``; services filter on it. Money is integer minor units of the
currency beside it (USD cents, whole riel), never float. Ledger rows (books, funds, journal
entries) are referred to by plain integer ids or codes, without foreign keys: the ledger is a
layer of its own and its tables are reached through ``ledger.api`` only.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.plugin_api import Base


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Grant(Base):
    """A business plan for a case and, once approved, the grant that funds it.

    ``status`` is the decision: ``submitted`` -> ``approved`` | ``rejected``. What happened after
    approval (disbursed, repaying, written off) is derived from :class:`Movement` rows.
    """

    __tablename__ = "grants"
    __table_args__ = (
        Index("ix_grants_org_status", "org_id", "status", "id"),
        Index("ix_grants_org_case", "org_id", "case_id"),
        CheckConstraint("status IN ('submitted', 'approved', 'rejected')", name="status"),
        CheckConstraint("amount_minor IS NULL OR amount_minor > 0", name="amount_positive"),
        CheckConstraint("repayable_minor >= 0", name="repayable_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    business_type: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(2000))
    village: Mapped[str] = mapped_column(String(120), default="")
    commune: Mapped[str] = mapped_column(String(120), default="")
    district: Mapped[str] = mapped_column(String(120), default="")
    province: Mapped[str] = mapped_column(String(120), default="")
    expected_income_minor: Mapped[int] = mapped_column(BigInteger)
    expected_income_currency: Mapped[str] = mapped_column(String(3))
    contribution_minor: Mapped[int] = mapped_column(BigInteger)
    contribution_currency: Mapped[str] = mapped_column(String(3))
    certificate_number: Mapped[str] = mapped_column(String(40), default="")
    submitted_on: Mapped[date] = mapped_column(Date)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the decision
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str] = mapped_column(String(1000), default="")
    # the approved grant
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    fund_code: Mapped[str | None] = mapped_column(String(60))  # ledger fund, by code
    repayable_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    book_id: Mapped[int | None] = mapped_column(Integer)  # the microbusiness's ledger book
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    items: Mapped[list[CostItem]] = relationship(order_by="CostItem.position", lazy="selectin", cascade="all, delete-orphan")
    tranches: Mapped[list[Tranche]] = relationship(order_by="Tranche.position", lazy="selectin", cascade="all, delete-orphan")
    instalments: Mapped[list[Instalment]] = relationship(order_by="Instalment.due_on", lazy="selectin", cascade="all, delete-orphan")


class CostItem(Base):
    """One start-up cost of the plan."""

    __tablename__ = "grant_cost_items"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class Tranche(Base):
    """A scheduled part of the grant, in the grant's currency, with the condition for paying it."""

    __tablename__ = "grant_tranches"
    __table_args__ = (
        UniqueConstraint("grant_id", "position", name="uq_grant_tranches_grant_position"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"))
    position: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    condition: Mapped[str] = mapped_column(String(300))


class Instalment(Base):
    """A due date and amount of the repayable part's schedule (grant currency)."""

    __tablename__ = "grant_instalments"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class Movement(Base):
    """A money movement of the grant, written with its journal entries in one transaction.

    ``kind``: ``tranche`` (cash or bank payment of a scheduled tranche), ``purchase`` (bought in
    kind on the person's behalf), ``repayment``, ``write_off``, ``write_off_reversal``.
    ``amount_minor`` is in the grant's currency; ``loan_minor`` the part of it that changes the
    loan (the repayable share of a payment, or a repayment / write-off itself). ``paid_*`` is what
    left or entered the bank or cash box, in the currency used, at ``rate`` (grant -> paid).
    ``general_txn_id`` / ``business_txn_id``: the ledger entries in the general book and in the
    microbusiness's book.
    """

    __tablename__ = "grant_movements"
    __table_args__ = (
        UniqueConstraint("org_id", "receipt", name="uq_grant_movements_org_receipt"),
        UniqueConstraint("tranche_id", name="uq_grant_movements_tranche"),
        Index("ix_grant_movements_grant", "grant_id", "day"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("kind IN ('tranche', 'purchase', 'repayment', 'write_off', 'write_off_reversal')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"))
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    loan_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    method: Mapped[str | None] = mapped_column(String(10))  # cash, bank
    paid_minor: Mapped[int | None] = mapped_column(BigInteger)
    paid_currency: Mapped[str | None] = mapped_column(String(3))
    rate: Mapped[str | None] = mapped_column(String(40))
    receipt: Mapped[str | None] = mapped_column(String(20))
    tranche_id: Mapped[int | None] = mapped_column(ForeignKey("grant_tranches.id"))
    description: Mapped[str] = mapped_column(String(200), default="")  # what was bought
    supplier: Mapped[str] = mapped_column(String(120), default="")
    asset: Mapped[str | None] = mapped_column(String(20))  # equipment, stock
    reason: Mapped[str] = mapped_column(String(500), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("grant_movements.id"), unique=True)
    general_txn_id: Mapped[int | None] = mapped_column(Integer)
    business_txn_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class MonthFigures(Base):
    """The microbusiness's figures of one month, posted into its own book.

    At most one standing record per grant and month; a correction reverses the record's entry
    (``reversed_on``) and a new record is made.
    """

    __tablename__ = "grant_month_figures"
    __table_args__ = (Index("ix_grant_month_figures_grant_month", "grant_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    currency: Mapped[str] = mapped_column(String(3))
    sales_minor: Mapped[int] = mapped_column(BigInteger)
    costs_minor: Mapped[int] = mapped_column(BigInteger)
    drawings_minor: Mapped[int] = mapped_column(BigInteger)
    stock_minor: Mapped[int] = mapped_column(BigInteger)
    stock_change_minor: Mapped[int] = mapped_column(BigInteger)  # counted stock less the book's stock before
    still_trading: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(500), default="")
    txn_id: Mapped[int | None] = mapped_column(Integer)
    reversed_on: Mapped[date | None] = mapped_column(Date)
    reversal_txn_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    @property
    def profit_minor(self) -> int:
        """Sales less costs, plus the change in stock (stock bought and not yet sold is not a loss)."""
        return self.sales_minor - self.costs_minor + self.stock_change_minor
