"""Queries on revocations: who was removed from a room and may not rejoin until when.

LiveKit cannot revoke a token it already accepted the signature of, so we keep
the removal here: no new join token for the subject, and a ``participant_joined``
of the subject is removed again, until ``until``.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.domain.rooms import Revocation
from server.storage.store import Prepared
from server.storage.tables import beings, revocations

__all__ = ["Joiner", "active_until", "clear_room", "current", "joiner", "lift", "revoke"]

_ACTIVE = sa.select(revocations.c.until).where(  # built once: it runs on every join token
    revocations.c.room_id == sa.bindparam("room"),
    revocations.c.subject == sa.bindparam("subject"),
    revocations.c.until > sa.bindparam("now", type_=revocations.c.until.type),
)

_CURRENT = sa.select(revocations.c.until, revocations.c.rank).where(
    revocations.c.room_id == sa.bindparam("room"),
    revocations.c.subject == sa.bindparam("subject"),
    revocations.c.until > sa.bindparam("now", type_=revocations.c.until.type),
)

# The caller's name, type, creation and revocation in the room, in one round trip
# (prepared: it runs on every join token).
_JOINER = Prepared(
    sa.select(
        beings.c.name,
        beings.c.type,
        beings.c.created_at,
        _ACTIVE.where(revocations.c.subject == beings.c.id).scalar_subquery(),
    ).where(beings.c.id == sa.bindparam("subject"))
)


class Joiner(NamedTuple):
    """Who asks to join: its name, type and creation, and when its revocation ends."""

    name: str
    type: str
    created_at: datetime
    revoked_until: datetime | None  # None: not revoked


async def joiner(
    conn: AsyncConnection, room_id: str, being_id: str, now: datetime
) -> Joiner | None:
    """``being_id`` as it joins ``room_id``; None when there is no such being."""
    params = {"room": room_id, "subject": being_id, "now": now}
    row = await _JOINER.first(conn, params)
    return None if row is None else Joiner(*row)


async def current(
    conn: AsyncConnection, room_id: str, subject: str, now: datetime
) -> Revocation | None:
    """``subject``'s revocation in ``room_id`` in force at ``now``, with its setter's rank."""
    row = (await conn.execute(_CURRENT, {"room": room_id, "subject": subject, "now": now})).first()
    return None if row is None else Revocation(row.until, row.rank)


async def revoke(
    conn: AsyncConnection, room_id: str, subject: str, revocation: Revocation, by: str
) -> None:
    """Refuse ``subject`` in ``room_id`` as ``revocation`` says (replacing any earlier one)."""
    where = (revocations.c.room_id == room_id, revocations.c.subject == subject)
    values = {"until": revocation.until, "rank": revocation.rank, "revoked_by": by}
    updated = await conn.execute(revocations.update().where(*where).values(values))
    if updated.rowcount == 0:
        await conn.execute(
            revocations.insert().values({"room_id": room_id, "subject": subject, **values})
        )


async def lift(conn: AsyncConnection, room_id: str, subject: str) -> None:
    """Forget ``subject``'s revocation in ``room_id``."""
    where = (revocations.c.room_id == room_id, revocations.c.subject == subject)
    await conn.execute(revocations.delete().where(*where))


async def active_until(
    conn: AsyncConnection, room_id: str, subject: str, now: datetime
) -> datetime | None:
    """When ``subject``'s revocation in ``room_id`` ends, or None if it is not revoked now."""
    params = {"room": room_id, "subject": subject, "now": now}
    until: datetime | None = (await conn.execute(_ACTIVE, params)).scalar()
    return until


async def clear_room(conn: AsyncConnection, room_id: str) -> None:
    """Forget the room's revocations (its space was deleted)."""
    await conn.execute(revocations.delete().where(revocations.c.room_id == room_id))
