"""release_support: the organisation's settings, stock items and receipts, release-day records and
their starter-pack lines, and the release-day checklist

The first revision of the module's own branch, labelled ``release_support``. It depends on core's
first revision (organisations, persons, cases, users) and on the ledger's ``0002_ledger``: its rows
refer to ledger funds, accounts and journal entries by code, name or plain id (no foreign keys into
the ledger).

Revision ID: 0001_release_support
Revises:
Create Date: 2026-11-24 04:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '0001_release_support'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = ('release_support',)
depends_on: Union[str, Sequence[str], None] = ('0001_core', '0002_ledger')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('release_support_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('low_at', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('low_at >= 0', name=op.f('ck_release_support_items_low_at_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_release_support_items_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_release_support_items_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_support_items')),
    sa.UniqueConstraint('org_id', 'name', name='uq_release_support_items_org_name')
    )
    op.create_table('release_support_settings',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=True),
    sa.Column('expense_account', sa.String(length=200), nullable=False),
    sa.Column('pay_from_usd', sa.String(length=200), nullable=True),
    sa.Column('pay_from_khr', sa.String(length=200), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fare_minor', sa.BigInteger(), nullable=False),
    sa.Column('food_per_day_minor', sa.BigInteger(), nullable=False),
    sa.Column('night_rate_minor', sa.BigInteger(), nullable=False),
    sa.Column('ceiling_usd_minor', sa.BigInteger(), nullable=True),
    sa.Column('ceiling_khr_minor', sa.BigInteger(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ceiling_khr_minor IS NULL OR ceiling_khr_minor > 0', name=op.f('ck_release_support_settings_ceiling_khr_positive')),
    sa.CheckConstraint('ceiling_usd_minor IS NULL OR ceiling_usd_minor > 0', name=op.f('ck_release_support_settings_ceiling_usd_positive')),
    sa.CheckConstraint('fare_minor >= 0 AND food_per_day_minor >= 0 AND night_rate_minor >= 0', name=op.f('ck_release_support_settings_defaults_not_negative')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_release_support_settings_org_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_release_support_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_release_support_settings'))
    )
    op.create_table('release_support_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_cost_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('supplier', sa.String(length=120), nullable=False),
    sa.Column('paid_from', sa.String(length=200), nullable=False),
    sa.Column('txn_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_release_support_receipts_quantity_positive')),
    sa.CheckConstraint('unit_cost_minor > 0', name=op.f('ck_release_support_receipts_unit_cost_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['release_support_items.id'], name=op.f('fk_release_support_receipts_item_id_release_support_items')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_release_support_receipts_org_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_release_support_receipts_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_support_receipts'))
    )
    with op.batch_alter_table('release_support_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_release_support_receipts_org_item', ['org_id', 'item_id'], unique=False)

    op.create_table('release_support_checklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('ticked_by_id', sa.Integer(), nullable=True),
    sa.Column('ticked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_release_support_checklist_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_release_support_checklist_org_id_organisations')),
    sa.ForeignKeyConstraint(['ticked_by_id'], ['users.id'], name=op.f('fk_release_support_checklist_ticked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_support_checklist')),
    sa.UniqueConstraint('case_id', 'step', name='uq_release_support_checklist_case_step')
    )
    op.create_table('release_support_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fare_minor', sa.BigInteger(), nullable=False),
    sa.Column('food_days', sa.Integer(), nullable=False),
    sa.Column('food_minor', sa.BigInteger(), nullable=False),
    sa.Column('nights', sa.Integer(), nullable=False),
    sa.Column('night_rate_minor', sa.BigInteger(), nullable=False),
    sa.Column('handed_over_by_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.String(length=2000), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=True),
    sa.Column('txn_id', sa.Integer(), nullable=True),
    sa.Column('reversal_txn_id', sa.Integer(), nullable=True),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.Column('reversed_by_id', sa.Integer(), nullable=True),
    sa.Column('reversal_reason', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('fare_minor >= 0 AND food_minor >= 0 AND night_rate_minor >= 0', name=op.f('ck_release_support_records_amounts_not_negative')),
    sa.CheckConstraint('food_days >= 0 AND nights >= 0', name=op.f('ck_release_support_records_counts_not_negative')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_release_support_records_case_id_cases')),
    sa.ForeignKeyConstraint(['handed_over_by_id'], ['users.id'], name=op.f('fk_release_support_records_handed_over_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_release_support_records_org_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_release_support_records_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['reversed_by_id'], ['users.id'], name=op.f('fk_release_support_records_reversed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_support_records'))
    )
    with op.batch_alter_table('release_support_records', schema=None) as batch_op:
        batch_op.create_index('ix_release_support_records_org_case', ['org_id', 'case_id'], unique=False)
        batch_op.create_index('ix_release_support_records_org_day', ['org_id', 'given_on'], unique=False)

    op.create_table('release_support_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('cost_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.CheckConstraint('cost_minor >= 0', name=op.f('ck_release_support_lines_cost_not_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_release_support_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['release_support_items.id'], name=op.f('fk_release_support_lines_item_id_release_support_items')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_release_support_lines_org_id_organisations')),
    sa.ForeignKeyConstraint(['record_id'], ['release_support_records.id'], name=op.f('fk_release_support_lines_record_id_release_support_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_support_lines')),
    sa.UniqueConstraint('record_id', 'item_id', name='uq_release_support_lines_record_item')
    )
    with op.batch_alter_table('release_support_lines', schema=None) as batch_op:
        batch_op.create_index('ix_release_support_lines_org_item', ['org_id', 'item_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('release_support_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_release_support_lines_org_item')

    op.drop_table('release_support_lines')
    with op.batch_alter_table('release_support_records', schema=None) as batch_op:
        batch_op.drop_index('ix_release_support_records_org_day')
        batch_op.drop_index('ix_release_support_records_org_case')

    op.drop_table('release_support_records')
    op.drop_table('release_support_checklist')
    with op.batch_alter_table('release_support_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_release_support_receipts_org_item')

    op.drop_table('release_support_receipts')
    op.drop_table('release_support_settings')
    op.drop_table('release_support_items')
