"""Space events by age: what the periodic prune looks up (``created_at`` before a time).

Revision ID: 0009_space_events_by_age
Revises: 0008_space_events_by_being
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0009_space_events_by_age"
down_revision = "0008_space_events_by_being"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_space_events_created_at", "space_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_space_events_created_at", table_name="space_events")
