"""LiveKit: recordings (Egress) as its webhooks report them, and reconcile leases.

Revision ID: 0003_recordings
Revises: 0003_presence
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_recordings"
down_revision = "0003_presence"
branch_labels = None
depends_on = None

_ID = sa.String(64)
_ROOM = sa.String(128)
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("egress_id", _ID, nullable=False),
        sa.Column("room_id", _ROOM, nullable=False),
        sa.Column("started_by", _ID, nullable=True),  # null: started elsewhere, seen by webhook
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(1024), nullable=False),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),  # EgressInfo.updated_at
        sa.PrimaryKeyConstraint("egress_id"),
    )
    op.create_index("ix_recordings_room", "recordings", ["room_id", "started_at"])
    op.create_table(
        "reconcile_leases",
        sa.Column("room_id", _ROOM, nullable=False),
        sa.Column("holder", _ID, nullable=False),
        sa.Column("until", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("room_id"),
    )


def downgrade() -> None:
    op.drop_table("reconcile_leases")
    op.drop_index("ix_recordings_room", table_name="recordings")
    op.drop_table("recordings")
