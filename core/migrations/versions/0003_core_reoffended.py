"""core: the re-offence event kind is renamed core.reoffence -> core.reoffended; an index of
corrections (events.corrects_id, partial: only rows that correct another)

The payload keeps its fields (stage, offence_date); ``source`` is new and optional, so existing
rows need no change beyond their kind. The ORM refuses updates of events (append-only); a
migration renames a kind below the ORM, and there is no database trigger to stop it.

Revision ID: 0003_core_reoffended
Revises: 0002_core_attachments
Create Date: 2026-11-24 04:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003_core_reoffended'
down_revision: Union[str, Sequence[str], None] = '0002_core_attachments'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("UPDATE events SET kind = 'core.reoffended' WHERE kind = 'core.reoffence'")
    op.create_index(
        'ix_events_corrects', 'events', ['corrects_id'], unique=False,
        sqlite_where=sa.text('corrects_id IS NOT NULL'), postgresql_where=sa.text('corrects_id IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_events_corrects', table_name='events')
    op.execute("UPDATE events SET kind = 'core.reoffence' WHERE kind = 'core.reoffended'")
