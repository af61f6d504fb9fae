"""Queries on beings. Every function takes a connection from ``Storage.read/write``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.being import Being, BeingType, Visibility
from server.rpc import RpcError
from server.storage.cache import MISS
from server.storage.errors import is_unique_violation
from server.storage.store import Storage, invalidate
from server.storage.tables import beings, memberships

__all__ = [
    "count_bots",
    "created_at",
    "delete",
    "exists",
    "get",
    "insert",
    "list_visible",
    "lock",
    "lock_for_delete",
    "type_of",
    "update",
]

_COLUMNS = (
    beings.c.id,
    beings.c.name,
    beings.c.type,
    beings.c.owner_id,
    beings.c.visibility,
    beings.c.meta,
    beings.c.created_at,
    beings.c.updated_at,
)
_viewer_role = (
    sa.select(memberships.c.role)
    .where(memberships.c.space_id == beings.c.id, memberships.c.being_id == sa.bindparam("viewer"))
    .scalar_subquery()
)
# Built once: SQLAlchemy compiles each statement object once and caches it.
_GET = sa.select(*_COLUMNS, _viewer_role.label("viewer_role")).where(
    beings.c.id == sa.bindparam("id")
)
_EXISTS = sa.select(beings.c.id).where(beings.c.id == sa.bindparam("id"))
_CREATED = sa.select(beings.c.created_at).where(beings.c.id == sa.bindparam("id"))
_TYPE = sa.select(beings.c.type).where(beings.c.id == sa.bindparam("id"))
_LOCK = _EXISTS.with_for_update()
_OWNED = (
    sa.select(memberships.c.space_id)
    .where(memberships.c.being_id == sa.bindparam("id"), memberships.c.role == "owner")
    .order_by(memberships.c.space_id)
)
_LOCK_MANY = (
    sa.select(beings.c.id)
    .where(beings.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(beings.c.id)
    .with_for_update()
)


def _being(row: Any) -> Being:
    return Being(
        id=row.id,
        name=row.name,
        type=row.type,
        owner_id=row.owner_id,
        visibility=row.visibility,
        metadata=row.meta,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def get(
    conn: AsyncConnection, being_id: str, viewer: str | None
) -> tuple[Being, str | None] | None:
    """The being and ``viewer``'s role in it (None: not a member), or None if absent."""
    row = (await conn.execute(_GET, {"id": being_id, "viewer": viewer})).first()
    return None if row is None else (_being(row), row.viewer_role)


async def get_cached(
    storage: Storage, being_id: str, viewer: str | None
) -> tuple[Being, str | None] | None:
    """``get``, from ``storage.cache`` when it holds the answer (see server/storage/cache.py)."""
    cache = storage.cache
    key = ("being", being_id, viewer)
    found = cache.get(key)
    if found is not MISS:
        return found  # type: ignore[no-any-return]
    generation = cache.generation
    async with storage.read() as conn:
        found = await get(conn, being_id, viewer)
    cache.put(key, found, (being_id, viewer), generation)
    return found


async def exists(conn: AsyncConnection, being_id: str) -> bool:
    """True when the being exists."""
    return (await conn.execute(_EXISTS, {"id": being_id})).first() is not None


async def created_at(conn: AsyncConnection, being_id: str) -> datetime | None:
    """When the being was created, or None when it does not exist."""
    found: datetime | None = (await conn.execute(_CREATED, {"id": being_id})).scalar()
    return found


async def type_of(conn: AsyncConnection, being_id: str) -> BeingType | None:
    """The being's type, or None when it does not exist."""
    found: BeingType | None = (await conn.execute(_TYPE, {"id": being_id})).scalar()
    return found


async def lock(conn: AsyncConnection, being_id: str) -> bool:
    """Lock the being's row until the transaction ends (PostgreSQL; SQLite's writer
    already holds the database); False when it does not exist."""
    return (await conn.execute(_LOCK, {"id": being_id})).first() is not None


async def lock_for_delete(conn: AsyncConnection, being_id: str) -> bool:
    """Lock what deleting ``being_id`` must read unchanged; False when it does not exist.

    The spaces it owns come first, in id order, as ``space.*`` writes lock them;
    then the being itself, which also waits for any write that is giving it a bot
    (the bot's foreign key holds a share lock on its owner's row). Reads made after
    this see every such write committed, so "the last owner stays" and "a being
    that owns bots stays" hold under PostgreSQL's concurrency; SQLite's single
    writer already runs the whole transaction alone, and ignores FOR UPDATE.
    """
    locked: set[str] = set()
    while True:  # a space it became owner of meanwhile is locked too
        owned = [s for s in (await conn.execute(_OWNED, {"id": being_id})).scalars()]
        fresh = [space for space in owned if space not in locked]
        if not fresh:
            break
        await conn.execute(_LOCK_MANY, {"ids": fresh})
        locked.update(fresh)
    return await lock(conn, being_id)


async def list_visible(
    conn: AsyncConnection,
    viewer: str | None,
    *,
    admin: bool,
    type: BeingType | None,
    after: str | None,
    limit: int,
) -> list[Being]:
    """Beings ordered by id after ``after``: users, bots, public spaces and the private
    spaces ``viewer`` belongs to (everything for admins)."""
    query = sa.select(*_COLUMNS).order_by(beings.c.id).limit(limit)
    if not admin:
        member = sa.exists().where(
            memberships.c.space_id == beings.c.id, memberships.c.being_id == viewer
        )
        query = query.where(
            sa.or_(beings.c.visibility.is_(None), beings.c.visibility == "public", member)
        )
    if type is not None:
        query = query.where(beings.c.type == type)
    if after is not None:
        query = query.where(beings.c.id > after)
    return [_being(row) for row in await conn.execute(query)]


async def insert(conn: AsyncConnection, being: Being) -> None:
    """Insert ``being``; an id that exists is CONFLICT."""
    values = {
        "id": being.id,
        "name": being.name,
        "type": being.type,
        "owner_id": being.owner_id,
        "visibility": being.visibility,
        "meta": being.metadata,
        "created_at": being.created_at,
        "updated_at": being.updated_at,
    }
    try:
        await conn.execute(beings.insert(), values)
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise RpcError("CONFLICT", f"{being.id} already exists", reason="id_taken") from None
        raise
    await invalidate(conn, being.id)  # a cached "absent"


async def update(
    conn: AsyncConnection,
    being_id: str,
    *,
    now: datetime,
    name: str | None = None,
    visibility: Visibility | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Change the given fields and ``updatedAt``."""
    values: dict[str, Any] = {"updated_at": now}
    if name is not None:
        values["name"] = name
    if visibility is not None:
        values["visibility"] = visibility
    if metadata is not None:
        values["meta"] = metadata
    await conn.execute(beings.update().where(beings.c.id == being_id).values(values))
    await invalidate(conn, being_id)


async def delete(conn: AsyncConnection, being_id: str) -> bool:
    """Delete the being (its memberships and, for a space, its history go with it)."""
    result = await conn.execute(beings.delete().where(beings.c.id == being_id))
    await invalidate(conn, being_id)  # and what was read of its memberships, either side
    return result.rowcount > 0


async def count_bots(conn: AsyncConnection, owner_id: str) -> int:
    """How many bots ``owner_id`` owns (a space's owners are its ``owner`` members)."""
    query = (
        sa.select(sa.func.count())
        .select_from(beings)
        .where(beings.c.owner_id == owner_id, beings.c.type == "bot")
    )
    return int((await conn.execute(query)).scalar_one())
