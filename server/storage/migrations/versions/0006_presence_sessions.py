"""Presence of our own: one row per socket session, held by an instance until it expires.

Revision ID: 0003_presence
Revises: 0004_idempotency
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_presence"
down_revision = "0004_idempotency"
branch_labels = None
depends_on = None

_ID = sa.String(64)
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "presence_sessions",
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("being_id", _ID, nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("custom_status", sa.String(100), nullable=True),
        sa.Column("since", _TIME, nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('online', 'away', 'busy')", name="ck_presence_sessions_status"
        ),
        sa.ForeignKeyConstraint(["room_id"], ["beings.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["being_id"], ["beings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_id", "being_id", "device"),
    )
    op.create_index("ix_presence_sessions_expires_at", "presence_sessions", ["expires_at"])
    op.create_index("ix_presence_sessions_instance_id", "presence_sessions", ["instance_id"])
    op.create_index("ix_presence_sessions_being_id", "presence_sessions", ["being_id"])


def downgrade() -> None:
    op.drop_index("ix_presence_sessions_being_id", table_name="presence_sessions")
    op.drop_index("ix_presence_sessions_instance_id", table_name="presence_sessions")
    op.drop_index("ix_presence_sessions_expires_at", table_name="presence_sessions")
    op.drop_table("presence_sessions")
