"""Queries on recordings: LiveKit egresses of a room, as started here and reported by webhook.

Egress reports (the answer to StartEgress, and the ``egress_*`` webhooks) may
arrive late or out of order; each carries ``EgressInfo.updated_at``, and a
report older than the one stored changes nothing.
"""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.livekit import Recording, RecordingFile
from server.storage.tables import recordings, upsert_of

__all__ = ["for_room", "get", "record"]


def _recording(row: Any) -> Recording:
    return Recording(
        egress_id=row.egress_id,
        room_id=row.room_id,
        started_by=row.started_by,
        status=row.status,
        files=msgspec.convert(row.files, list[RecordingFile]),
        error=row.error or None,
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


async def record(
    conn: AsyncConnection, found: Recording, updated_ns: int, started_by: str | None = None
) -> None:
    """Store ``found`` unless a newer report of the same egress is stored (one statement:
    the answer to StartEgress and the webhooks may race)."""
    values: dict[str, Any] = {
        "room_id": found.room_id,
        "status": found.status,
        "files": [msgspec.to_builtins(f) for f in found.files],
        "error": found.error or "",
        "started_at": found.started_at,
        "ended_at": found.ended_at,
        "updated_ns": updated_ns,
    }
    insert = upsert_of(conn.dialect.name)(recordings).values(
        egress_id=found.egress_id, started_by=started_by, **values
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[recordings.c.egress_id],
        set_={name: insert.excluded[name] for name in values},
        where=recordings.c.updated_ns <= insert.excluded.updated_ns,
    )
    await conn.execute(upsert)
    if started_by is not None:  # whichever report came first, who started it is kept
        key = (recordings.c.egress_id == found.egress_id, recordings.c.started_by.is_(None))
        await conn.execute(recordings.update().where(*key).values(started_by=started_by))


async def get(conn: AsyncConnection, egress_id: str) -> Recording | None:
    row = (
        await conn.execute(sa.select(recordings).where(recordings.c.egress_id == egress_id))
    ).first()
    return None if row is None else _recording(row)


async def for_room(conn: AsyncConnection, room_id: str, limit: int = 100) -> list[Recording]:
    """The room's recordings, newest first."""
    query = (
        sa.select(recordings)
        .where(recordings.c.room_id == room_id)
        .order_by(recordings.c.started_at.desc().nulls_last(), recordings.c.egress_id)
        .limit(limit)
    )
    return [_recording(row) for row in await conn.execute(query)]
