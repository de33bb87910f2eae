"""core: follow-up policy in days or calendar months with an escalation threshold, a supervisor per
staff member, private calendar feeds, import batches

``organisations.follow_up_interval_days`` becomes ``follow_up_interval`` with a unit (existing
policies keep their number of days).

Revision ID: 0004_core_follow_up_imports
Revises: 0003_core_reoffended
Create Date: 2026-11-24 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004_core_follow_up_imports'
down_revision: Union[str, Sequence[str], None] = '0003_core_reoffended'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ and PostgreSQL): a batch copy of ``organisations`` would
    # drop a table every other table refers to, which SQLite refuses with foreign keys on.
    op.execute('ALTER TABLE organisations RENAME COLUMN follow_up_interval_days TO follow_up_interval')
    op.add_column('organisations', sa.Column('follow_up_interval_unit', sa.String(length=6), nullable=False, server_default='days'))
    op.add_column('organisations', sa.Column('follow_up_escalate_days', sa.Integer(), nullable=False, server_default='30'))
    with op.batch_alter_table('memberships') as batch:  # nothing refers to memberships
        batch.add_column(sa.Column('supervisor_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_memberships_supervisor_id_users'), 'users', ['supervisor_id'], ['id'])
    op.create_table('calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_calendar_feeds_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feeds_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash'))
    )
    op.create_index(op.f('ix_calendar_feeds_user_id'), 'calendar_feeds', ['user_id'], unique=False)
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_bad', sa.Integer(), nullable=False),
    sa.Column('rows_imported', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_import_batches_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_batches_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    op.create_index(op.f('ix_import_batches_org_id'), 'import_batches', ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_import_batches_org_id'), table_name='import_batches')
    op.drop_table('import_batches')
    op.drop_index(op.f('ix_calendar_feeds_user_id'), table_name='calendar_feeds')
    op.drop_table('calendar_feeds')
    with op.batch_alter_table('memberships') as batch:
        batch.drop_constraint(op.f('fk_memberships_supervisor_id_users'), type_='foreignkey')
        batch.drop_column('supervisor_id')
    op.drop_column('organisations', 'follow_up_escalate_days')
    op.drop_column('organisations', 'follow_up_interval_unit')
    op.execute('ALTER TABLE organisations RENAME COLUMN follow_up_interval TO follow_up_interval_days')
