"""A space's changes and membership as rows, in commit order: what ``space.watch`` replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.space import SpaceEvent, SpaceEventType
from server.storage.tables import space_events

__all__ = [
    "MEMBERSHIP",
    "after",
    "insert",
    "kept",
    "kept_mine",
    "last_id",
    "last_mine",
    "mine",
    "prune",
]


MEMBERSHIP = ("memberAdded", "memberRemoved", "roleChanged")  # the events naming a member


def _event(row: Any) -> tuple[int, SpaceEvent]:
    return row.id, SpaceEvent(
        type=row.kind,
        space_id=row.space_id,
        being_id=row.being_id,
        role=row.role,
        at=row.created_at,
    )


async def insert(
    conn: AsyncConnection,
    space_id: str,
    kind: SpaceEventType,
    *,
    now: datetime,
    being_id: str | None = None,
    role: str | None = None,
) -> int:
    """Record one event; its id orders the space's events."""
    values = {
        "space_id": space_id,
        "kind": kind,
        "being_id": being_id,
        "role": role,
        "created_at": now,
    }
    result = await conn.execute(space_events.insert().values(values))
    key = result.inserted_primary_key
    assert key is not None  # an insert of one row always has its key
    return int(key[0])


async def after(
    conn: AsyncConnection, space_id: str, after_id: int, limit: int
) -> list[tuple[int, SpaceEvent]]:
    """The space's events with ids above ``after_id``, oldest first."""
    query = (
        sa.select(space_events)
        .where(space_events.c.space_id == space_id, space_events.c.id > after_id)
        .order_by(space_events.c.id)
        .limit(limit)
    )
    return [_event(row) for row in await conn.execute(query)]


async def last_id(conn: AsyncConnection, space_id: str) -> int:
    """The id of the space's newest event (0 when none)."""
    query = sa.select(sa.func.max(space_events.c.id)).where(space_events.c.space_id == space_id)
    return int((await conn.execute(query)).scalar() or 0)


async def kept(conn: AsyncConnection, space_id: str, event_id: int) -> bool:
    """Whether the space's event ``event_id`` is still a row (not pruned): a resume point."""
    query = sa.select(space_events.c.id).where(
        space_events.c.id == event_id, space_events.c.space_id == space_id
    )
    return (await conn.execute(query)).first() is not None


async def prune(conn: AsyncConnection, before: datetime) -> int:
    """Delete events older than ``before``, except each space's newest and each member's
    newest (quiet subscribers resume from them); how many went."""
    newest = sa.select(sa.func.max(space_events.c.id)).group_by(space_events.c.space_id)
    newest_mine = (
        sa.select(sa.func.max(space_events.c.id))
        .where(space_events.c.kind.in_(MEMBERSHIP))
        .group_by(space_events.c.being_id)
    )
    statement = space_events.delete().where(
        space_events.c.created_at < before,
        space_events.c.id.not_in(newest),
        space_events.c.id.not_in(newest_mine),
    )
    result = await conn.execute(statement)
    return int(result.rowcount or 0)


def _of(being_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(space_events.c.being_id == being_id, space_events.c.kind.in_(MEMBERSHIP))


async def mine(
    conn: AsyncConnection, being_id: str, after_id: int, limit: int
) -> list[tuple[int, SpaceEvent]]:
    """The being's membership events in any space with ids above ``after_id``, oldest first."""
    query = (
        sa.select(space_events)
        .where(_of(being_id), space_events.c.id > after_id)
        .order_by(space_events.c.id)
        .limit(limit)
    )
    return [_event(row) for row in await conn.execute(query)]


async def last_mine(conn: AsyncConnection, being_id: str) -> int:
    """The id of the being's newest membership event (0 when none)."""
    query = sa.select(sa.func.max(space_events.c.id)).where(_of(being_id))
    return int((await conn.execute(query)).scalar() or 0)


async def kept_mine(conn: AsyncConnection, being_id: str, event_id: int) -> bool:
    """Whether the being's membership event ``event_id`` is still a row (not pruned)."""
    query = sa.select(space_events.c.id).where(space_events.c.id == event_id, _of(being_id))
    return (await conn.execute(query)).first() is not None
