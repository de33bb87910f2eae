"""The ledger's tables: books, accounts, journal transactions and postings, prices, closed periods.

Journal transactions, postings and closed periods are append-only: the ORM refuses changes here,
and the migration's triggers refuse ``UPDATE`` and ``DELETE`` in the database itself.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, refuse_changes
from core.models import utcnow
from ledger.money import from_minor

APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_postings", "ledger_closed_periods", "ledger_check_runs")


class Book(Base):
    """A set of accounts kept together: an organisation's general book or a microbusiness's."""

    __tablename__ = "ledger_books"
    __table_args__ = (
        UniqueConstraint("org_id", "name"),
        CheckConstraint("kind IN ('general', 'microbusiness')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20), default="general")
    name: Mapped[str] = mapped_column(String(120))
    reference: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Account(Base):
    """An account of a book, named as beancount names it (``Assets:Bank:USD``)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("book_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("ledger_books.id"))
    name: Mapped[str] = mapped_column(String(200))
    #: the currencies the account may hold, comma-separated (``"USD,KHR"``)
    currencies: Mapped[str] = mapped_column(String(200))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    @property
    def currency_list(self) -> list[str]:
        return [c for c in self.currencies.split(",") if c]


class JournalTransaction(Base):
    """One balanced journal entry. Append-only; a correction is a reversal (``reverses_id``)."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        UniqueConstraint("book_id", "seq"),
        Index("ix_ledger_transactions_book_date", "book_id", "date", "id"),
        Index("ix_ledger_transactions_book_fund", "book_id", "fund", "date"),
        Index("ix_ledger_transactions_case_id", "case_id"),
        Index("ix_ledger_transactions_grant_id", "grant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("ledger_books.id"))
    seq: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    flag: Mapped[str] = mapped_column(String(1), default="*")
    payee: Mapped[str | None] = mapped_column(Text)
    narration: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: copies of ``meta["fund"]``, ``meta["case_id"]`` and ``meta["grant_id"]`` (which the hash
    #: covers), indexed for the fund, case and grant statements; ``verify`` checks they agree
    fund: Mapped[str | None] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[int | None] = mapped_column(Integer)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="transaction", order_by="Posting.id", lazy="selectin"
    )


class Posting(Base):
    """One leg of a transaction: a signed amount in minor units (debit > 0, credit < 0).

    ``price_rate``/``price_currency``: the exchange rate of a cross-currency leg (exported as
    ``@ rate``). ``weight_minor``/``weight_currency``: what the leg counts for in the balance
    (the amount itself, or amount x rate in the price currency, exact in its minor units).
    """

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_nonzero"),
        Index("ix_ledger_postings_account", "account_id", "currency"),
        # Covers the trial balance and fund sums: an index-only range scan per account up to a date.
        Index("ix_ledger_postings_account_sums", "account_id", "currency", "weight_currency", "date", "amount_minor", "weight_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(10))
    price_rate: Mapped[str | None] = mapped_column(String(40))
    price_currency: Mapped[str | None] = mapped_column(String(10))
    weight_minor: Mapped[int] = mapped_column(BigInteger)
    weight_currency: Mapped[str] = mapped_column(String(10))
    #: the transaction's date, copied so that balances at a date read one index (``verify``
    #: checks it agrees); null only in a database older than migration 0002 before its backfill
    date: Mapped[date | None] = mapped_column(Date)

    transaction: Mapped[JournalTransaction] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship(lazy="joined")


class Price(Base):
    """An exchange rate: on ``date``, 1 ``base`` = ``rate`` ``quote`` (rate as an exact decimal string)."""

    __tablename__ = "ledger_prices"
    __table_args__ = (UniqueConstraint("org_id", "date", "base", "quote"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    date: Mapped[date] = mapped_column(Date)
    base: Mapped[str] = mapped_column(String(10))
    quote: Mapped[str] = mapped_column(String(10))
    rate: Mapped[str] = mapped_column(String(40))


class ClosedPeriod(Base):
    """A book is closed through ``through`` (inclusive): nothing may be posted on or before it."""

    __tablename__ = "ledger_closed_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("ledger_books.id"), index=True)
    through: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Fund(Base):
    """A donor fund: money given for a purpose (restricted) or for the organisation's work at large.

    Income into the fund is credited to ``income_account``; a journal entry belongs to the fund
    when its metadata ``fund`` is the fund's ``code`` (set by whoever posts it, or inferred from
    the income account). The fund's balance is its income less the expenses charged to it.
    """

    __tablename__ = "ledger_funds"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    donor: Mapped[str | None] = mapped_column(String(200))
    restricted: Mapped[bool] = mapped_column(Boolean, default=True)
    income_account: Mapped[str] = mapped_column(String(200))
    opened_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BudgetLine(Base):
    """What the organisation plans to spend in a calendar year on an expense account (and the
    accounts below it), optionally from one fund. Planning data: changed in place, not journal."""

    __tablename__ = "ledger_budget_lines"
    __table_args__ = (
        UniqueConstraint("org_id", "year", "fund_id", "account"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(Integer)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_funds.id"))
    account: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    fund: Mapped[Fund | None] = relationship(lazy="joined")

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.currency)


class CheckRun(Base):
    """The result of one ``check`` (beancount's loader over the export) or ``verify`` (the hash
    chain) of an organisation's books, from the command line or the audit pages."""

    __tablename__ = "ledger_check_runs"
    __table_args__ = (
        CheckConstraint("kind IN ('check', 'verify')", name="kind"),
        Index("ix_ledger_check_runs_org_kind", "org_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(10))
    ok: Mapped[bool] = mapped_column(Boolean)
    #: one line per book: ``"<file or book>: ok"`` or the errors found
    report: Mapped[list[str]] = mapped_column(JSON, default=list)
    transactions: Mapped[int] = mapped_column(Integer, default=0)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ran_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10), default="web")


class Document(Base):
    """An attachment (an invoice, a receipt) that documents one journal entry. Exported beside the
    book as a beancount ``document`` directive, so an auditor opens the invoice behind a payment.
    Append-only, like the entry it documents."""

    __tablename__ = "ledger_documents"
    __table_args__ = (UniqueConstraint("transaction_id", "attachment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"))
    #: the account the directive names (by default the entry's first debit leg's)
    account: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerAppendOnlyError(RuntimeError):
    """Code tried to change or delete a journal row."""


_APPEND_ONLY = (JournalTransaction, Posting, ClosedPeriod, CheckRun, Document)


refuse_changes(_APPEND_ONLY, LedgerAppendOnlyError, "journal rows are append-only; post a reversal instead")
