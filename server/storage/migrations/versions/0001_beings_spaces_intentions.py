"""Beings, memberships and intentions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(64)
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "beings",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner_id", _ID, sa.ForeignKey("beings.id", ondelete="SET NULL")),
        sa.Column("visibility", sa.String(8)),
        sa.Column("metadata", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.CheckConstraint("type IN ('user', 'space', 'bot')", name="ck_beings_type"),
        sa.CheckConstraint(
            "(type = 'space') = (visibility IS NOT NULL)", name="ck_beings_space_visibility"
        ),
    )
    op.create_index("ix_beings_owner_id", "beings", ["owner_id"])
    op.create_index("ix_beings_type_id", "beings", ["type", "id"])
    op.create_table(
        "memberships",
        sa.Column(
            "space_id", _ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "being_id", _ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'moderator', 'member', 'listener')", name="ck_memberships_role"
        ),
    )
    op.create_index("ix_memberships_being_id", "memberships", ["being_id"])
    op.create_table(
        "intentions",
        sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
        sa.Column("space_id", _ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_index("ix_intentions_space_id_id", "intentions", ["space_id", "id"])


def downgrade() -> None:
    op.drop_table("intentions")
    op.drop_table("memberships")
    op.drop_table("beings")
