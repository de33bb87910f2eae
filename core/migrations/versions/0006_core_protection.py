"""core: data protection (consent records, sensitive fields and who sees them, retention and
anonymisation) and accounts (idle sessions, signed-in devices, password changes)

The audit trail's triggers (0005) are replaced by ones that allow exactly one kind of UPDATE: setting
``changes`` to the redaction marker ``{"redacted": true}`` with every other column unchanged, which
is how anonymising a case after the retention period removes the names and values its entries hold
(core.services.privacy, docs/privacy.md). Any other UPDATE, every DELETE (and TRUNCATE) is still
refused.

Revision ID: 0006_core_protection
Revises: 0005_core_audit
Create Date: 2026-12-02 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006_core_protection'
down_revision: Union[str, Sequence[str], None] = '0005_core_audit'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


AUDIT = 'audit_entries'
APPEND_ONLY = 'audit_entries is append-only'
REDACTED = '{"redacted": true}'
"""The one value an UPDATE may give ``audit_entries.changes`` (core.services.privacy.REDACTED as
SQLAlchemy's JSON type writes it)."""
KEPT = ('id', 'org_id', 'user_id', 'action', 'record_type', 'record_id', 'at', 'ip', 'user_agent')


def _audit_triggers(allow_redaction: bool) -> None:
    """(Re)create the append-only guard of ``audit_entries``: 0005's, or with the redaction allowed."""
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        allowed = ''
        if allow_redaction:
            new = ', '.join(f'NEW.{c}' for c in KEPT)
            old = ', '.join(f'OLD.{c}' for c in KEPT)
            allowed = (
                f"IF TG_OP = 'UPDATE' AND NEW.changes::text = '{REDACTED}' "
                f"AND ROW({new}) IS NOT DISTINCT FROM ROW({old}) THEN RETURN NEW; END IF; "
            )
        # The triggers of 0005 call this function; replacing it changes what they allow.
        op.execute(
            "CREATE OR REPLACE FUNCTION core_audit_append_only() RETURNS trigger AS $$ "
            f"BEGIN {allowed}RAISE EXCEPTION '{APPEND_ONLY}'; END "
            "$$ LANGUAGE plpgsql"
        )
    elif dialect == 'sqlite':
        op.execute(f"DROP TRIGGER IF EXISTS {AUDIT}_no_update")
        when = ''
        if allow_redaction:
            same = ' AND '.join(f'NEW.{c} IS OLD.{c}' for c in KEPT)
            when = f"WHEN NOT (NEW.changes = '{REDACTED}' AND {same}) "
        op.execute(
            f"CREATE TRIGGER {AUDIT}_no_update BEFORE UPDATE ON {AUDIT} {when}"
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"no append-only triggers for {dialect}")


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (see 0004: no batch copy of tables others refer to).
    op.add_column('organisations', sa.Column('sensitive_roles', sa.String(length=200), nullable=False, server_default='admin,case_manager'))
    op.add_column('organisations', sa.Column('retention_months', sa.Integer(), nullable=True))
    op.add_column('users', sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('web_sessions', sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('web_sessions', sa.Column('ip', sa.String(length=45), nullable=True))
    op.add_column('web_sessions', sa.Column('user_agent', sa.String(length=200), nullable=True))
    op.add_column('persons', sa.Column('medical_notes', sa.Text(), nullable=True))
    op.add_column('persons', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('cases', sa.Column('offence', sa.Text(), nullable=True))
    op.add_column('cases', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_consents_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_consents_person_id_persons')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_consents_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    op.create_index('ix_consents_org_person', 'consents', ['org_id', 'person_id', 'purpose'], unique=False)
    _audit_triggers(allow_redaction=True)


def downgrade() -> None:
    _audit_triggers(allow_redaction=False)
    op.drop_index('ix_consents_org_person', table_name='consents')
    op.drop_table('consents')
    op.drop_column('cases', 'anonymised_at')
    op.drop_column('cases', 'offence')
    op.drop_column('persons', 'anonymised_at')
    op.drop_column('persons', 'medical_notes')
    op.drop_column('web_sessions', 'user_agent')
    op.drop_column('web_sessions', 'ip')
    op.drop_column('web_sessions', 'last_seen_at')
    op.drop_column('users', 'password_changed_at')
    op.drop_column('organisations', 'retention_months')
    op.drop_column('organisations', 'sensitive_roles')
