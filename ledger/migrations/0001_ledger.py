"""ledger: books, accounts, journal, prices, closed periods; append-only triggers

The branch is labelled ``ledger`` and depends on core's first revision (organisations, users).
Triggers on SQLite and PostgreSQL refuse UPDATE and DELETE on the journal tables, so that even
raw SQL cannot change history behind the hash chain.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-24 00:20:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001_ledger"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = ("ledger",)
depends_on: Union[str, Sequence[str], None] = "0001_core"

APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_postings", "ledger_closed_periods")


def upgrade() -> None:
    op.create_table(
        "ledger_books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("reference", sa.String(120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('general', 'microbusiness')", name=op.f("ck_ledger_books_kind")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_ledger_books_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_books")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_ledger_books_org_id_name")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currencies", sa.String(200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["book_id"], ["ledger_books.id"], name=op.f("fk_ledger_accounts_book_id_ledger_books")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("book_id", "name", name=op.f("uq_ledger_accounts_book_id_name")),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("flag", sa.String(1), nullable=False),
        sa.Column("payee", sa.Text(), nullable=True),
        sa.Column("narration", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["book_id"], ["ledger_books.id"], name=op.f("fk_ledger_transactions_book_id_ledger_books")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_ledger_transactions_created_by_users")),
        sa.ForeignKeyConstraint(["reverses_id"], ["ledger_transactions.id"], name=op.f("fk_ledger_transactions_reverses_id_ledger_transactions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("book_id", "seq", name=op.f("uq_ledger_transactions_book_id_seq")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_transactions_reverses_id")),
    )
    op.create_index("ix_ledger_transactions_book_date", "ledger_transactions", ["book_id", "date", "id"])
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(10), nullable=False),
        sa.Column("price_rate", sa.String(40), nullable=True),
        sa.Column("price_currency", sa.String(10), nullable=True),
        sa.Column("weight_minor", sa.BigInteger(), nullable=False),
        sa.Column("weight_currency", sa.String(10), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_ledger_postings_amount_nonzero")),
        sa.ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"], name=op.f("fk_ledger_postings_account_id_ledger_accounts")),
        sa.ForeignKeyConstraint(["transaction_id"], ["ledger_transactions.id"], name=op.f("fk_ledger_postings_transaction_id_ledger_transactions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    op.create_index(op.f("ix_ledger_postings_transaction_id"), "ledger_postings", ["transaction_id"])
    op.create_index("ix_ledger_postings_account", "ledger_postings", ["account_id", "currency"])
    op.create_table(
        "ledger_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("base", sa.String(10), nullable=False),
        sa.Column("quote", sa.String(10), nullable=False),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_ledger_prices_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_prices")),
        sa.UniqueConstraint("org_id", "date", "base", "quote", name=op.f("uq_ledger_prices_org_id_date_base_quote")),
    )
    op.create_table(
        "ledger_closed_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["book_id"], ["ledger_books.id"], name=op.f("fk_ledger_closed_periods_book_id_ledger_books")),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name=op.f("fk_ledger_closed_periods_closed_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_closed_periods")),
    )
    op.create_index(op.f("ix_ledger_closed_periods_book_id"), "ledger_closed_periods", ["book_id"])
    create_append_only_triggers()


def create_append_only_triggers() -> None:
    """Refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) on the journal tables."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: post a reversal instead', TG_TABLE_NAME; END "
            "$$ LANGUAGE plpgsql"
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
            )
    elif dialect == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: post a reversal instead'); END"
                )
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"no append-only triggers for {dialect}")


def drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")


def downgrade() -> None:
    drop_append_only_triggers()
    op.drop_table("ledger_closed_periods")
    op.drop_table("ledger_prices")
    op.drop_table("ledger_postings")
    op.drop_table("ledger_transactions")
    op.drop_table("ledger_accounts")
    op.drop_table("ledger_books")
