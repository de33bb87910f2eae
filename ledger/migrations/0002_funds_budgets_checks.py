"""ledger: funds, budget lines, check runs; fund/case/grant columns on entries, dates on postings

Journal entries gain ``fund``, ``case_id`` and ``grant_id``: indexed copies of the metadata of the
same names (the hash covers the metadata; ``verify`` checks that the copies agree). Existing rows
are filled from their metadata with the append-only trigger set aside for that one statement.
Postings gain their transaction's date and a covering index, so a balance at a date is an
index-only scan (bench/README.md, "Ledger").
Check runs are append-only like the journal.

Revision ID: 0002_ledger
Revises: 0001_ledger
Create Date: 2026-11-24 09:10:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ledger"
down_revision: Union[str, Sequence[str], None] = "0001_ledger"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TXN = "ledger_transactions"
POSTINGS = "ledger_postings"


def upgrade() -> None:
    op.create_table(
        "ledger_funds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("donor", sa.String(200), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("income_account", sa.String(200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_ledger_funds_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_funds")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_ledger_funds_org_id_code")),
    )
    op.create_table(
        "ledger_budget_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=True),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_budget_lines_amount_positive")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_ledger_budget_lines_org_id_organisations")),
        sa.ForeignKeyConstraint(["fund_id"], ["ledger_funds.id"], name=op.f("fk_ledger_budget_lines_fund_id_ledger_funds")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_ledger_budget_lines_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_budget_lines")),
        sa.UniqueConstraint("org_id", "year", "fund_id", "account", name=op.f("uq_ledger_budget_lines_org_id_year_fund_id_account")),
    )
    op.create_table(
        "ledger_check_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_by", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.CheckConstraint("kind IN ('check', 'verify')", name=op.f("ck_ledger_check_runs_kind")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_ledger_check_runs_org_id_organisations")),
        sa.ForeignKeyConstraint(["ran_by"], ["users.id"], name=op.f("fk_ledger_check_runs_ran_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_check_runs")),
    )
    op.create_index("ix_ledger_check_runs_org_kind", "ledger_check_runs", ["org_id", "kind", "id"])

    op.add_column(TXN, sa.Column("fund", sa.String(60), nullable=True))
    op.add_column(TXN, sa.Column("case_id", sa.Integer(), nullable=True))
    op.add_column(TXN, sa.Column("grant_id", sa.Integer(), nullable=True))
    op.add_column(POSTINGS, sa.Column("date", sa.Date(), nullable=True))
    _backfill()
    op.create_index(
        "ix_ledger_postings_account_sums", POSTINGS, ["account_id", "currency", "weight_currency", "date", "amount_minor", "weight_minor"]
    )
    op.create_index("ix_ledger_transactions_book_fund", TXN, ["book_id", "fund", "date"])
    op.create_index("ix_ledger_transactions_case_id", TXN, ["case_id"])
    op.create_index("ix_ledger_transactions_grant_id", TXN, ["grant_id"])
    _append_only("ledger_check_runs")


def _backfill() -> None:
    """Copy the metadata (and each posting's transaction date) into the new columns, past the
    triggers that refuse UPDATE."""
    dialect = op.get_bind().dialect.name
    posting_dates = (
        f"UPDATE {POSTINGS} SET date = (SELECT t.date FROM {TXN} t WHERE t.id = {POSTINGS}.transaction_id)"
    )
    if dialect == "postgresql":
        for table in (TXN, POSTINGS):
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        op.execute(
            f"UPDATE {TXN} SET fund = meta->>'fund', case_id = (meta->>'case_id')::integer, "
            "grant_id = (meta->>'grant_id')::integer "
            "WHERE meta->>'fund' IS NOT NULL OR meta->>'case_id' IS NOT NULL OR meta->>'grant_id' IS NOT NULL"
        )
        op.execute(posting_dates)
        for table in (TXN, POSTINGS):
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    else:
        for table in (TXN, POSTINGS):
            op.execute(f"DROP TRIGGER {table}_no_update")
        op.execute(
            f"UPDATE {TXN} SET fund = json_extract(meta, '$.fund'), case_id = json_extract(meta, '$.case_id'), "
            "grant_id = json_extract(meta, '$.grant_id')"
        )
        op.execute(posting_dates)
        for table in (TXN, POSTINGS):
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: post a reversal instead'); END"
            )


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    op.drop_index("ix_ledger_postings_account_sums", POSTINGS)
    op.execute(f"ALTER TABLE {POSTINGS} DROP COLUMN date")
    op.drop_index("ix_ledger_transactions_grant_id", TXN)
    op.drop_index("ix_ledger_transactions_case_id", TXN)
    op.drop_index("ix_ledger_transactions_book_fund", TXN)
    for column in ("grant_id", "case_id", "fund"):  # plain DROP COLUMN (SQLite >= 3.35) keeps the triggers
        op.execute(f"ALTER TABLE {TXN} DROP COLUMN {column}")
    op.drop_table("ledger_check_runs")
    op.drop_table("ledger_budget_lines")
    op.drop_table("ledger_funds")
