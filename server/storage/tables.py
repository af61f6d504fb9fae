"""The tables, as SQLAlchemy Core sees them (the migrations create them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

__all__ = [
    "BEING_ID",
    "Json",
    "UtcDateTime",
    "beings",
    "idempotency_keys",
    "intentions",
    "memberships",
    "metadata",
    "presence",
    "presence_sessions",
    "reconcile_leases",
    "recordings",
    "revocations",
    "space_events",
    "upsert_of",
    "webhook_events",
]

BEING_ID = sa.String(64)
metadata = sa.MetaData()


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite hands back naive ones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        return value if value is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value  # type: ignore[no-any-return]
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


class Json(sa.TypeDecorator[Any]):
    """JSON; JSONB on PostgreSQL. Not ``with_variant(postgresql.JSONB())``: that imports
    SQLAlchemy's PostgreSQL dialect (~4 MiB resident) on SQLite too."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB  # loaded already on PostgreSQL

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())


_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: a rowid alias

beings = sa.Table(
    "beings",
    metadata,
    sa.Column("id", BEING_ID, primary_key=True),
    sa.Column("type", sa.String(8), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("owner_id", BEING_ID, sa.ForeignKey("beings.id", ondelete="SET NULL")),
    sa.Column("visibility", sa.String(8)),
    sa.Column("metadata", Json(), nullable=False, key="meta"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("type IN ('user', 'space', 'bot')", name="ck_beings_type"),
    sa.CheckConstraint(
        "(type = 'space') = (visibility IS NOT NULL)", name="ck_beings_space_visibility"
    ),
    sa.Index("ix_beings_owner_id", "owner_id"),
    sa.Index("ix_beings_type_id", "type", "id"),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column(
        "space_id", BEING_ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "being_id", BEING_ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(
        "role IN ('owner', 'moderator', 'member', 'listener')", name="ck_memberships_role"
    ),
    sa.Index("ix_memberships_being_id", "being_id"),
)

intentions = sa.Table(
    "intentions",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("space_id", BEING_ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", BEING_ID, nullable=False),  # no FK: history outlives its authors
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_intentions_space_id_id", "space_id", "id"),
)

# A space's changes and membership, in commit order: what space.watch replays. No foreign
# key: the row of a space's deletion outlives the space.
space_events = sa.Table(
    "space_events",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("space_id", BEING_ID, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("being_id", BEING_ID, nullable=True),
    sa.Column("role", sa.String(16), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_space_events_space_id_id", "space_id", "id"),
    sa.Index("ix_space_events_being_id_id", "being_id", "id"),  # space.watchMine
    sa.Index("ix_space_events_created_at", "created_at"),  # the periodic prune
)

# --- LiveKit: webhook ids seen, presence in rooms, revoked participants ---
# Rooms are LiveKit room names (a space's id, or a media.* room): no foreign key.
ROOM_ID = sa.String(128)
IDENTITY = sa.String(160)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("event", sa.String(48), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Index("ix_webhook_events_received_at", "received_at"),
)

presence = sa.Table(
    "presence",
    metadata,
    sa.Column("room_id", ROOM_ID, primary_key=True),
    sa.Column("identity", IDENTITY, primary_key=True),
    sa.Column("being_id", BEING_ID),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("participant_sid", sa.String(64), nullable=False),
    sa.Column("room_sid", sa.String(64), nullable=False),
    sa.Column("joined_at", UtcDateTime(), nullable=False),
    sa.Column("joined_at_ms", sa.BigInteger(), nullable=False),  # orders sessions
    sa.Column("present", sa.Boolean(), nullable=False),  # false: a tombstone of a left session
)

revocations = sa.Table(
    "revocations",
    metadata,
    sa.Column("room_id", ROOM_ID, primary_key=True),
    sa.Column("subject", IDENTITY, primary_key=True),  # the being id behind the identity
    sa.Column("until", UtcDateTime(), nullable=False),
    sa.Column("revoked_by", BEING_ID, nullable=False),
    sa.Column("rank", sa.SmallInteger(), nullable=False),  # the setter's (domain.rooms.RANKS)
)

# --- safe retries: the answers of requests sent with an Idempotency-Key ---
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(200), primary_key=True),  # a being id, or ip:<address>
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("digest", sa.LargeBinary(32), nullable=False),  # SHA-256 of the request body
    sa.Column("status", sa.Integer()),  # the answer's HTTP status; NULL while it runs
    sa.Column("body", sa.LargeBinary()),  # the answer; NULL for none, or not kept
    sa.Column("kept", sa.Boolean(), nullable=False),  # false: too large to keep
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
)

# --- Presence of our own: one row per socket session (LiveKit's stay in ``presence``) ---
presence_sessions = sa.Table(
    "presence_sessions",
    metadata,
    sa.Column(
        "room_id", BEING_ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "being_id", BEING_ID, sa.ForeignKey("beings.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("device", sa.String(32), primary_key=True),  # "" when joined without one
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("custom_status", sa.String(100)),
    sa.Column("since", UtcDateTime(), nullable=False),
    sa.Column("instance_id", sa.String(64), nullable=False),  # the server that holds it
    sa.Column("connected", sa.Boolean(), nullable=False),  # false: in its grace period
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('online', 'away', 'busy')", name="ck_presence_sessions_status"),
    sa.Index("ix_presence_sessions_expires_at", "expires_at"),
    sa.Index("ix_presence_sessions_instance_id", "instance_id"),
    sa.Index("ix_presence_sessions_being_id", "being_id"),
)


recordings = sa.Table(
    "recordings",
    metadata,
    sa.Column("egress_id", sa.String(64), primary_key=True),
    sa.Column("room_id", ROOM_ID, nullable=False),
    sa.Column("started_by", BEING_ID),  # null: started elsewhere, known from its webhooks
    sa.Column("status", sa.String(32), nullable=False),  # EgressStatus, e.g. EGRESS_ACTIVE
    sa.Column("files", sa.JSON(), nullable=False),  # [{"filename", "location", "size", ...}]
    sa.Column("error", sa.String(1024), nullable=False),
    sa.Column("started_at", UtcDateTime()),
    sa.Column("ended_at", UtcDateTime()),
    sa.Column("updated_ns", sa.BigInteger(), nullable=False),  # orders reports: newer wins
    sa.Index("ix_recordings_room", "room_id", "started_at"),
)

reconcile_leases = sa.Table(
    "reconcile_leases",
    metadata,
    sa.Column("room_id", ROOM_ID, primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),  # the instance reconciling the room
    sa.Column("until", UtcDateTime(), nullable=False),
)


def upsert_of(dialect: str) -> Callable[[sa.Table], postgresql.Insert | sqlite.Insert]:
    """The dialect's ``insert`` (the one with ``on_conflict_do_*``). Each dialect's module is
    imported on first use: SQLAlchemy's PostgreSQL one costs ~4 MiB resident on SQLite."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert

    return insert
