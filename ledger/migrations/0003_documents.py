"""ledger: documents (an attachment that documents a journal entry), append-only

Revision ID: 0003_ledger
Revises: 0002_ledger
Create Date: 2026-11-24 10:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003_ledger"
down_revision: Union[str, Sequence[str], None] = "0002_ledger"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = "0002_core_attachments"

TABLE = "ledger_documents"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"], name=op.f("fk_ledger_documents_attachment_id_attachments")),
        sa.ForeignKeyConstraint(["transaction_id"], ["ledger_transactions.id"], name=op.f("fk_ledger_documents_transaction_id_ledger_transactions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_documents")),
        sa.UniqueConstraint("transaction_id", "attachment_id", name=op.f("uq_ledger_documents_transaction_id_attachment_id")),
    )
    op.create_index(op.f("ix_ledger_documents_transaction_id"), TABLE, ["transaction_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
            )


def downgrade() -> None:
    op.drop_table(TABLE)
