"""Space events by member: what ``space.watchMine`` reads.

Revision ID: 0008_space_events_by_being
Revises: 0003_recordings
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0008_space_events_by_being"
down_revision = "0003_recordings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_space_events_being_id_id", "space_events", ["being_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_space_events_being_id_id", table_name="space_events")
