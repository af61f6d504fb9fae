"""Space events: a space's changes and membership, replayed by space.watch.

Revision ID: 0003
Revises: 0003_revocation_rank
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0003_revocation_rank"
branch_labels = None
depends_on = None

_ID = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "space_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("space_id", _ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("being_id", _ID, nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_space_events_space_id_id", "space_events", ["space_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_space_events_space_id_id", table_name="space_events")
    op.drop_table("space_events")
