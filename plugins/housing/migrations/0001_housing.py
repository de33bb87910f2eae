"""housing: settings, assessments and household, repairs, quotes, payments, progress, attachment links

The first revision of the module's own branch, labelled ``housing``. It depends on core's
``0002_core_attachments`` (organisations, persons, cases, users and the ``attachments`` its link
table points at) and on the ledger's ``0002_ledger``: its rows refer to ledger funds and journal
entries by code or plain id (no foreign keys into the ledger).

Revision ID: 0001_housing
Revises:
Create Date: 2026-11-24 04:11:13

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001_housing'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = ('housing',)
depends_on: Union[str, Sequence[str], None] = ('0002_core_attachments', '0002_ledger')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('housing_settings',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=True),
    sa.Column('ceiling_minor', sa.BigInteger(), nullable=True),
    sa.Column('ceiling_currency', sa.String(length=3), nullable=False),
    sa.Column('expense_account', sa.String(length=200), nullable=False),
    sa.Column('pay_from_usd', sa.String(length=200), nullable=False),
    sa.Column('pay_from_khr', sa.String(length=200), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("ceiling_currency IN ('USD', 'KHR')", name=op.f('ck_housing_settings_ceiling_currency')),
    sa.CheckConstraint('ceiling_minor IS NULL OR ceiling_minor > 0', name=op.f('ck_housing_settings_ceiling_positive')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_settings_org_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_housing_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_housing_settings'))
    )
    op.create_table('housing_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('roof', sa.String(length=20), nullable=False),
    sa.Column('walls', sa.String(length=20), nullable=False),
    sa.Column('floor', sa.String(length=20), nullable=False),
    sa.Column('broken', sa.String(length=500), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.String(length=2000), nullable=False),
    sa.Column('assessed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("urgency IN ('low', 'medium', 'high', 'urgent')", name=op.f('ck_housing_assessments_urgency')),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['users.id'], name=op.f('fk_housing_assessments_assessed_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_housing_assessments_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_assessments_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_assessments'))
    )
    with op.batch_alter_table('housing_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_housing_assessments_org_case', ['org_id', 'case_id'], unique=False)

    op.create_table('housing_household_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['housing_assessments.id'], name=op.f('fk_housing_household_members_assessment_id_housing_assessments')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_household_members_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_housing_household_members_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_household_members')),
    sa.UniqueConstraint('assessment_id', 'person_id', name='uq_housing_household_members_assessment_person')
    )
    op.create_table('housing_repairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('repair_type', sa.String(length=20), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('approved_quote_id', sa.Integer(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('completion_note', sa.String(length=500), nullable=False),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("repair_type IN ('roof', 'walls', 'floor', 'water', 'sanitation', 'electricity', 'other')", name=op.f('ck_housing_repairs_repair_type')),
    sa.CheckConstraint("status IN ('proposed', 'quoted', 'sent_back', 'approved', 'in_progress', 'completed', 'cancelled')", name=op.f('ck_housing_repairs_status')),
    sa.ForeignKeyConstraint(['assessment_id'], ['housing_assessments.id'], name=op.f('fk_housing_repairs_assessment_id_housing_assessments')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_housing_repairs_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_repairs_org_id_organisations')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_housing_repairs_proposed_by_id_users')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['persons.id'], name=op.f('fk_housing_repairs_signed_by_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_repairs'))
    )
    with op.batch_alter_table('housing_repairs', schema=None) as batch_op:
        batch_op.create_index('ix_housing_repairs_org_case', ['org_id', 'case_id'], unique=False)
        batch_op.create_index('ix_housing_repairs_org_status', ['org_id', 'status'], unique=False)

    op.create_table('housing_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('repair_id', sa.Integer(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('percent IS NULL OR (percent >= 0 AND percent <= 100)', name=op.f('ck_housing_progress_percent')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_progress_org_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_housing_progress_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['repair_id'], ['housing_repairs.id'], name=op.f('fk_housing_progress_repair_id_housing_repairs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_progress'))
    )
    with op.batch_alter_table('housing_progress', schema=None) as batch_op:
        batch_op.create_index('ix_housing_progress_repair', ['repair_id'], unique=False)

    op.create_table('housing_quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('repair_id', sa.Integer(), nullable=False),
    sa.Column('supplier', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('quoted_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'sent_back', 'not_chosen')", name=op.f('ck_housing_quotes_status')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_housing_quotes_amount_positive')),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_housing_quotes_added_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_housing_quotes_decided_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_quotes_org_id_organisations')),
    sa.ForeignKeyConstraint(['repair_id'], ['housing_repairs.id'], name=op.f('fk_housing_quotes_repair_id_housing_repairs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_quotes'))
    )
    with op.batch_alter_table('housing_quotes', schema=None) as batch_op:
        batch_op.create_index('ix_housing_quotes_repair', ['repair_id'], unique=False)

    op.create_table('housing_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('repair_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('txn_id', sa.Integer(), nullable=True),
    sa.Column('reversal_txn_id', sa.Integer(), nullable=True),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.Column('reverse_reason', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('advance', 'completion', 'other')", name=op.f('ck_housing_payments_kind')),
    sa.CheckConstraint("method IN ('bank_transfer', 'cash', 'mobile_money')", name=op.f('ck_housing_payments_method')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_housing_payments_amount_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_housing_payments_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_payments_org_id_organisations')),
    sa.ForeignKeyConstraint(['quote_id'], ['housing_quotes.id'], name=op.f('fk_housing_payments_quote_id_housing_quotes')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_housing_payments_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['repair_id'], ['housing_repairs.id'], name=op.f('fk_housing_payments_repair_id_housing_repairs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_payments'))
    )
    with op.batch_alter_table('housing_payments', schema=None) as batch_op:
        batch_op.create_index('ix_housing_payments_org_case', ['org_id', 'case_id'], unique=False)
        batch_op.create_index('ix_housing_payments_repair', ['repair_id'], unique=False)

    op.create_table('housing_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('repair_id', sa.Integer(), nullable=True),
    sa.Column('quote_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('progress_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('photo', 'quote', 'invoice', 'signoff')", name=op.f('ck_housing_attachments_role')),
    sa.ForeignKeyConstraint(['assessment_id'], ['housing_assessments.id'], name=op.f('fk_housing_attachments_assessment_id_housing_assessments')),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_housing_attachments_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_housing_attachments_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_housing_attachments_org_id_organisations')),
    sa.ForeignKeyConstraint(['payment_id'], ['housing_payments.id'], name=op.f('fk_housing_attachments_payment_id_housing_payments')),
    sa.ForeignKeyConstraint(['progress_id'], ['housing_progress.id'], name=op.f('fk_housing_attachments_progress_id_housing_progress')),
    sa.ForeignKeyConstraint(['quote_id'], ['housing_quotes.id'], name=op.f('fk_housing_attachments_quote_id_housing_quotes')),
    sa.ForeignKeyConstraint(['repair_id'], ['housing_repairs.id'], name=op.f('fk_housing_attachments_repair_id_housing_repairs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_attachments')),
    sa.UniqueConstraint('attachment_id', name='uq_housing_attachments_attachment')
    )
    with op.batch_alter_table('housing_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_housing_attachments_org_case', ['org_id', 'case_id'], unique=False)
        batch_op.create_index('ix_housing_attachments_repair', ['repair_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('housing_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_housing_attachments_repair')
        batch_op.drop_index('ix_housing_attachments_org_case')

    op.drop_table('housing_attachments')
    with op.batch_alter_table('housing_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_housing_payments_repair')
        batch_op.drop_index('ix_housing_payments_org_case')

    op.drop_table('housing_payments')
    with op.batch_alter_table('housing_quotes', schema=None) as batch_op:
        batch_op.drop_index('ix_housing_quotes_repair')

    op.drop_table('housing_quotes')
    with op.batch_alter_table('housing_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_housing_progress_repair')

    op.drop_table('housing_progress')
    with op.batch_alter_table('housing_repairs', schema=None) as batch_op:
        batch_op.drop_index('ix_housing_repairs_org_status')
        batch_op.drop_index('ix_housing_repairs_org_case')

    op.drop_table('housing_repairs')
    op.drop_table('housing_household_members')
    with op.batch_alter_table('housing_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_housing_assessments_org_case')

    op.drop_table('housing_assessments')
    op.drop_table('housing_settings')
