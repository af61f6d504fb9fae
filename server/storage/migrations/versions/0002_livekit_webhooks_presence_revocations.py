"""LiveKit: webhook event ids seen, presence in rooms, revoked participants.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.String(64)
_ROOM = sa.String(128)
_IDENTITY = sa.String(160)
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("room_id", _ROOM, nullable=False),
        sa.Column("identity", _IDENTITY, nullable=False),
        sa.Column("being_id", _ID, nullable=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("participant_sid", sa.String(64), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("joined_at", _TIME, nullable=False),
        sa.Column("joined_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", "identity"),
    )
    op.create_table(
        "revocations",
        sa.Column("room_id", _ROOM, nullable=False),
        sa.Column("subject", _IDENTITY, nullable=False),
        sa.Column("until", _TIME, nullable=False),
        sa.Column("revoked_by", _ID, nullable=False),
        sa.PrimaryKeyConstraint("room_id", "subject"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_events_received_at", "webhook_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_events_received_at", table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_table("revocations")
    op.drop_table("presence")
