"""Revocations keep the rank of whoever set them (moderator 1, owner 2, admin 3).

Revision ID: 0003_revocation_rank
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_revocation_rank"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revocations set before ranks were kept count as an owner's: a moderator may
    # lengthen them, only owners and admins shorten or lift them.
    with op.batch_alter_table("revocations") as batch:
        batch.add_column(
            sa.Column("rank", sa.SmallInteger(), nullable=False, server_default=sa.text("2"))
        )
    with op.batch_alter_table("revocations") as batch:
        batch.alter_column("rank", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("revocations") as batch:
        batch.drop_column("rank")
