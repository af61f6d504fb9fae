"""Queries on memberships: who is in which space, with which role."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.space import Member, Role
from server.rpc import RpcError
from server.storage.errors import is_unique_violation
from server.storage.store import invalidate
from server.storage.tables import beings, memberships

__all__ = [
    "add",
    "count_owners",
    "get",
    "is_bot_member",
    "of_being",
    "of_space",
    "page",
    "remove",
    "role_of",
    "set_role",
    "sole_owner_of",
]

_ROLE = sa.select(memberships.c.role).where(
    memberships.c.space_id == sa.bindparam("space"),
    memberships.c.being_id == sa.bindparam("being"),
)
_ONE = sa.select(memberships).where(
    memberships.c.space_id == sa.bindparam("space"),
    memberships.c.being_id == sa.bindparam("being"),
)


def _member(row: Any) -> Member:
    return Member(
        space_id=row.space_id, being_id=row.being_id, role=row.role, created_at=row.created_at
    )


async def role_of(conn: AsyncConnection, space_id: str, being_id: str) -> Role | None:
    """``being_id``'s role in ``space_id``, or None when it is not a member."""
    role = (await conn.execute(_ROLE, {"space": space_id, "being": being_id})).scalar()
    return role


async def get(conn: AsyncConnection, space_id: str, being_id: str) -> Member | None:
    """The membership, or None."""
    row = (await conn.execute(_ONE, {"space": space_id, "being": being_id})).first()
    return None if row is None else _member(row)


async def page(conn: AsyncConnection, space_id: str, after: str | None, limit: int) -> list[Member]:
    """Members ordered by being id, after ``after``."""
    query = (
        sa.select(memberships)
        .where(memberships.c.space_id == space_id)
        .order_by(memberships.c.being_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(memberships.c.being_id > after)
    return [_member(row) for row in await conn.execute(query)]


async def of_space(conn: AsyncConnection, space_id: str) -> list[Member]:
    """Every member of the space."""
    query = sa.select(memberships).where(memberships.c.space_id == space_id)
    return [_member(row) for row in await conn.execute(query)]


async def add(
    conn: AsyncConnection, space_id: str, being_id: str, role: Role, now: datetime
) -> Member:
    """Add a member; one that is already there is CONFLICT."""
    member = Member(space_id=space_id, being_id=being_id, role=role, created_at=now)
    values = {"space_id": space_id, "being_id": being_id, "role": role, "created_at": now}
    try:
        await conn.execute(memberships.insert(), values)
    except IntegrityError as exc:
        if is_unique_violation(exc):
            message = f"{being_id} is already a member of {space_id}"
            raise RpcError("CONFLICT", message, reason="already_member") from None
        raise
    await invalidate(conn, space_id, being_id)
    return member


async def set_role(conn: AsyncConnection, space_id: str, being_id: str, role: Role) -> None:
    """Change a member's role."""
    await conn.execute(
        memberships.update()
        .where(memberships.c.space_id == space_id, memberships.c.being_id == being_id)
        .values(role=role)
    )
    await invalidate(conn, space_id, being_id)


async def remove(conn: AsyncConnection, space_id: str, being_id: str) -> None:
    """Remove a member."""
    await conn.execute(
        memberships.delete().where(
            memberships.c.space_id == space_id, memberships.c.being_id == being_id
        )
    )
    await invalidate(conn, space_id, being_id)


async def count_owners(conn: AsyncConnection, space_id: str) -> int:
    """How many owners the space has."""
    query = (
        sa.select(sa.func.count())
        .select_from(memberships)
        .where(memberships.c.space_id == space_id, memberships.c.role == "owner")
    )
    return int((await conn.execute(query)).scalar_one())


async def sole_owner_of(conn: AsyncConnection, being_id: str) -> list[str]:
    """The spaces whose only owner is ``being_id``."""
    others = memberships.alias("others")
    owners = (
        sa.select(sa.func.count())
        .select_from(others)
        .where(others.c.space_id == memberships.c.space_id, others.c.role == "owner")
        .scalar_subquery()
    )
    query = (
        sa.select(memberships.c.space_id)
        .where(memberships.c.being_id == being_id, memberships.c.role == "owner", owners == 1)
        .order_by(memberships.c.space_id)
    )
    return list((await conn.execute(query)).scalars())


async def is_bot_member(conn: AsyncConnection, space_id: str, being_id: str) -> bool:
    """Whether ``being_id`` is a bot with a role in ``space_id``."""
    query = (
        sa.select(sa.literal(1))
        .select_from(memberships.join(beings, beings.c.id == memberships.c.being_id))
        .where(
            memberships.c.space_id == space_id,
            memberships.c.being_id == being_id,
            beings.c.type == "bot",
        )
    )
    return (await conn.execute(query)).first() is not None


async def of_being(conn: AsyncConnection, being_id: str) -> list[Member]:
    """Every membership of ``being_id``, by space."""
    query = (
        sa.select(memberships)
        .where(memberships.c.being_id == being_id)
        .order_by(memberships.c.space_id)
    )
    return [_member(row) for row in await conn.execute(query)]
