"""family_visits: the organisation's settings, visit plans and their members, visits and visitors

The first revision of the module's own branch, labelled ``family_visits``. It depends on core's
first revision (organisations, persons, cases, users) and on the ledger's ``0002_ledger``: its rows
refer to ledger funds and journal entries by code or plain id (no foreign keys into the ledger).

Revision ID: 0001_family_visits
Revises:
Create Date: 2026-11-24 03:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '0001_family_visits'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = ('family_visits',)
depends_on: Union[str, Sequence[str], None] = ('0001_core', '0002_ledger')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('family_visit_settings',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=True),
    sa.Column('limit_usd_minor', sa.BigInteger(), nullable=True),
    sa.Column('limit_khr_minor', sa.BigInteger(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('limit_usd_minor IS NULL OR limit_usd_minor > 0', name=op.f('ck_family_visit_settings_limit_usd_positive')),
    sa.CheckConstraint('limit_khr_minor IS NULL OR limit_khr_minor > 0', name=op.f('ck_family_visit_settings_limit_khr_positive')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_family_visit_settings_org_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_family_visit_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_family_visit_settings'))
    )
    op.create_table('family_visit_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('village', sa.String(length=120), nullable=False),
    sa.Column('prison', sa.String(length=120), nullable=False),
    sa.Column('interval_months', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('transport_minor', sa.BigInteger(), nullable=False),
    sa.Column('food_minor', sa.BigInteger(), nullable=False),
    sa.Column('accommodation_minor', sa.BigInteger(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('interval_months IN (1, 2, 3)', name=op.f('ck_family_visit_plans_interval')),
    sa.CheckConstraint('transport_minor >= 0 AND food_minor >= 0 AND accommodation_minor >= 0', name=op.f('ck_family_visit_plans_items_not_negative')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_family_visit_plans_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_family_visit_plans_org_id_organisations')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_family_visit_plans_set_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_visit_plans')),
    sa.UniqueConstraint('org_id', 'case_id', name='uq_family_visit_plans_org_case')
    )
    op.create_table('family_visit_plan_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_family_visit_plan_members_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_family_visit_plan_members_person_id_persons')),
    sa.ForeignKeyConstraint(['plan_id'], ['family_visit_plans.id'], name=op.f('fk_family_visit_plan_members_plan_id_family_visit_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_visit_plan_members')),
    sa.UniqueConstraint('plan_id', 'person_id', name='uq_family_visit_plan_members_plan_person')
    )
    op.create_table('family_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('notes', sa.String(length=2000), nullable=False),
    sa.Column('prison', sa.String(length=120), nullable=False),
    sa.Column('payment', sa.String(length=20), nullable=False),
    sa.Column('period', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('transport_minor', sa.BigInteger(), nullable=False),
    sa.Column('food_minor', sa.BigInteger(), nullable=False),
    sa.Column('accommodation_minor', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('paid_to_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approval_note', sa.String(length=500), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=True),
    sa.Column('txn_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("payment IN ('none', 'cash', 'mobile_money')", name=op.f('ck_family_visits_payment')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_family_visits_duration_positive')),
    sa.CheckConstraint('transport_minor >= 0 AND food_minor >= 0 AND accommodation_minor >= 0', name=op.f('ck_family_visits_items_not_negative')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_family_visits_approved_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_family_visits_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_family_visits_org_id_organisations')),
    sa.ForeignKeyConstraint(['paid_to_id'], ['persons.id'], name=op.f('fk_family_visits_paid_to_id_persons')),
    sa.ForeignKeyConstraint(['plan_id'], ['family_visit_plans.id'], name=op.f('fk_family_visits_plan_id_family_visit_plans')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_family_visits_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_visits')),
    sa.UniqueConstraint('plan_id', 'period', name='uq_family_visits_plan_period')
    )
    with op.batch_alter_table('family_visits', schema=None) as batch_op:
        batch_op.create_index('ix_family_visits_org_day', ['org_id', 'visited_on'], unique=False)
        batch_op.create_index('ix_family_visits_plan_day', ['plan_id', 'visited_on'], unique=False)

    op.create_table('family_visit_visitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_family_visit_visitors_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_family_visit_visitors_person_id_persons')),
    sa.ForeignKeyConstraint(['visit_id'], ['family_visits.id'], name=op.f('fk_family_visit_visitors_visit_id_family_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_visit_visitors')),
    sa.UniqueConstraint('visit_id', 'person_id', name='uq_family_visit_visitors_visit_person')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('family_visit_visitors')
    with op.batch_alter_table('family_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_family_visits_plan_day')
        batch_op.drop_index('ix_family_visits_org_day')

    op.drop_table('family_visits')
    op.drop_table('family_visit_plan_members')
    op.drop_table('family_visit_plans')
    op.drop_table('family_visit_settings')
