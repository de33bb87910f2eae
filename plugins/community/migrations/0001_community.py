"""community: the organisation's settings, community partners, referrals to them, peer meetings,
their attendance and their costs

The first revision of the module's own branch, labelled ``community``. It depends on core's head
at the time of writing (``0006_core_protection``: persons' consent, which referrals need) and on
the ledger's ``0002_ledger``: its rows refer to ledger funds, accounts and journal entries by code,
name or plain id (no foreign keys into the ledger). Generated with Alembic's autogenerate against
the module's models.

Revision ID: 0001_community
Revises:
Create Date: 2026-11-24 08:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0001_community'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('community',)
depends_on: str | Sequence[str] | None = ('0006_core_protection', '0002_ledger')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('community_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('facilitator', sa.String(length=120), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('reflections', sa.String(length=4000), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_community_meetings_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_community_meetings_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_meetings'))
    )
    with op.batch_alter_table('community_meetings', schema=None) as batch_op:
        batch_op.create_index('ix_community_meetings_org_day', ['org_id', 'held_on'], unique=False)

    op.create_table('community_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('contact_person', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('village', sa.String(length=100), nullable=False),
    sa.Column('commune', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('province', sa.String(length=100), nullable=False),
    sa.Column('helps_with', sa.String(length=1000), nullable=False),
    sa.Column('agreement_signed', sa.Boolean(), nullable=False),
    sa.Column('agreement_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_community_partners_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_community_partners_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_partners')),
    sa.UniqueConstraint('org_id', 'name', name='uq_community_partners_org_name')
    )
    with op.batch_alter_table('community_partners', schema=None) as batch_op:
        batch_op.create_index('ix_community_partners_org_place', ['org_id', 'province', 'district', 'commune'], unique=False)

    op.create_table('community_settings',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=True),
    sa.Column('expense_account', sa.String(length=200), nullable=False),
    sa.Column('pay_from_usd', sa.String(length=200), nullable=True),
    sa.Column('pay_from_khr', sa.String(length=200), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_community_settings_org_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_community_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_community_settings'))
    )
    op.create_table('community_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=20), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('paid_from', sa.String(length=200), nullable=False),
    sa.Column('fund_code', sa.String(length=60), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('txn_id', sa.Integer(), nullable=True),
    sa.Column('reversal_txn_id', sa.Integer(), nullable=True),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.Column('reversed_by_id', sa.Integer(), nullable=True),
    sa.Column('reversal_reason', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_community_costs_amount_positive')),
    sa.ForeignKeyConstraint(['meeting_id'], ['community_meetings.id'], name=op.f('fk_community_costs_meeting_id_community_meetings')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_community_costs_org_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_community_costs_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['reversed_by_id'], ['users.id'], name=op.f('fk_community_costs_reversed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_costs'))
    )
    with op.batch_alter_table('community_costs', schema=None) as batch_op:
        batch_op.create_index('ix_community_costs_org_meeting', ['org_id', 'meeting_id'], unique=False)

    op.create_table('community_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('family_of_case_id', sa.Integer(), nullable=True),
    sa.Column('reflection', sa.String(length=1000), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_community_attendance_case_id_cases')),
    sa.ForeignKeyConstraint(['family_of_case_id'], ['cases.id'], name=op.f('fk_community_attendance_family_of_case_id_cases')),
    sa.ForeignKeyConstraint(['meeting_id'], ['community_meetings.id'], name=op.f('fk_community_attendance_meeting_id_community_meetings')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_community_attendance_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_community_attendance_person_id_persons')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_community_attendance_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_attendance')),
    sa.UniqueConstraint('meeting_id', 'person_id', name='uq_community_attendance_meeting_person')
    )
    with op.batch_alter_table('community_attendance', schema=None) as batch_op:
        batch_op.create_index('ix_community_attendance_org_case', ['org_id', 'case_id'], unique=False)

    op.create_table('community_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.Column('feedback', sa.String(length=4000), nullable=False),
    sa.Column('referred_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_community_referrals_case_id_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_community_referrals_org_id_organisations')),
    sa.ForeignKeyConstraint(['partner_id'], ['community_partners.id'], name=op.f('fk_community_referrals_partner_id_community_partners')),
    sa.ForeignKeyConstraint(['referred_by_id'], ['users.id'], name=op.f('fk_community_referrals_referred_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_community_referrals_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_referrals'))
    )
    with op.batch_alter_table('community_referrals', schema=None) as batch_op:
        batch_op.create_index('ix_community_referrals_org_case', ['org_id', 'case_id'], unique=False)
        batch_op.create_index('ix_community_referrals_org_partner', ['org_id', 'partner_id'], unique=False)
        batch_op.create_index('ix_community_referrals_org_status', ['org_id', 'status', 'referred_on'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('community_referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_community_referrals_org_status')
        batch_op.drop_index('ix_community_referrals_org_partner')
        batch_op.drop_index('ix_community_referrals_org_case')

    op.drop_table('community_referrals')
    with op.batch_alter_table('community_attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_community_attendance_org_case')

    op.drop_table('community_attendance')
    with op.batch_alter_table('community_costs', schema=None) as batch_op:
        batch_op.drop_index('ix_community_costs_org_meeting')

    op.drop_table('community_costs')
    op.drop_table('community_settings')
    with op.batch_alter_table('community_partners', schema=None) as batch_op:
        batch_op.drop_index('ix_community_partners_org_place')

    op.drop_table('community_partners')
    with op.batch_alter_table('community_meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_community_meetings_org_day')

    op.drop_table('community_meetings')
