"""Queries on intentions: a space's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.intention import Intention, IntentionKind
from server.storage.tables import intentions

__all__ = ["after", "get", "insert", "last_id", "page"]


def _intention(row: Any) -> Intention:
    return Intention(
        id=row.id,
        space_id=row.space_id,
        author_id=row.author_id,
        kind=row.kind,
        content=row.content,
        created_at=row.created_at,
    )


async def insert(
    conn: AsyncConnection,
    *,
    space_id: str,
    author_id: str,
    kind: IntentionKind,
    content: str,
    now: datetime,
) -> Intention:
    """Record an intention; its id orders the history."""
    values = {
        "space_id": space_id,
        "author_id": author_id,
        "kind": kind,
        "content": content,
        "created_at": now,
    }
    result = await conn.execute(intentions.insert().values(values))
    key = result.inserted_primary_key
    assert key is not None  # an insert of one row always has its key
    return Intention(
        id=int(key[0]),
        space_id=space_id,
        author_id=author_id,
        kind=kind,
        content=content,
        created_at=now,
    )


async def page(
    conn: AsyncConnection, space_id: str, before: int | None, limit: int
) -> list[Intention]:
    """The newest ``limit`` intentions of a space, older than ``before`` when given."""
    query = (
        sa.select(intentions)
        .where(intentions.c.space_id == space_id)
        .order_by(intentions.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(intentions.c.id < before)
    return [_intention(row) for row in await conn.execute(query)]


async def after(conn: AsyncConnection, space_id: str, after_id: int, limit: int) -> list[Intention]:
    """A space's intentions with ids above ``after_id``, oldest first."""
    query = (
        sa.select(intentions)
        .where(intentions.c.space_id == space_id, intentions.c.id > after_id)
        .order_by(intentions.c.id)
        .limit(limit)
    )
    return [_intention(row) for row in await conn.execute(query)]


async def get(conn: AsyncConnection, intention_id: int) -> Intention | None:
    """One intention by id."""
    query = sa.select(intentions).where(intentions.c.id == intention_id)
    row = (await conn.execute(query)).first()
    return None if row is None else _intention(row)


async def last_id(conn: AsyncConnection, space_id: str) -> int:
    """The id of a space's newest intention (0 when it has none)."""
    query = sa.select(sa.func.max(intentions.c.id)).where(intentions.c.space_id == space_id)
    return int((await conn.execute(query)).scalar() or 0)
