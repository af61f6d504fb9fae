"""Queries on presence: who is in which LiveKit room, kept from webhooks, in order.

LiveKit may deliver webhooks late, twice or out of order, so each (room, identity)
keeps one row for its latest session, ordered by ``joined_at_ms``: an event about
an older session changes nothing, and a session that left stays as a tombstone
(``present`` false) so that its own late ``participant_joined`` cannot revive it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.domain.presence import Session
from server.storage.tables import presence, reconcile_leases, upsert_of, webhook_events

__all__ = [
    "Session",
    "clear_room",
    "first_sighting",
    "joined",
    "left",
    "members",
    "reconcile",
    "room_finished",
    "room_started",
    "rooms_with_presence",
    "take_lease",
]

_KEEP_EVENT_IDS = timedelta(days=1)  # a signed webhook is valid for minutes; ids kept a day


async def first_sighting(conn: AsyncConnection, event_id: str, event: str, now: datetime) -> bool:
    """Record a webhook's id; False when it was seen before (a replay: ignore it).

    Two instances racing on one id make the second transaction fail on the key.
    """
    seen = sa.select(webhook_events.c.id).where(webhook_events.c.id == event_id)
    if (await conn.execute(seen)).first() is not None:
        return False
    await conn.execute(
        webhook_events.delete().where(webhook_events.c.received_at < now - _KEEP_EVENT_IDS)
    )
    await conn.execute(webhook_events.insert().values(id=event_id, event=event, received_at=now))
    return True


async def _latest(conn: AsyncConnection, room_id: str, identity: str) -> sa.Row[Any] | None:
    query = sa.select(presence).where(
        presence.c.room_id == room_id, presence.c.identity == identity
    )
    return (await conn.execute(query)).first()


async def _put(conn: AsyncConnection, session: Session, *, present: bool, exists: bool) -> None:
    values = {
        "being_id": session.being_id,
        "name": session.name,
        "participant_sid": session.participant_sid,
        "room_sid": session.room_sid,
        "joined_at": session.joined_at,
        "joined_at_ms": session.joined_at_ms,
        "present": present,
    }
    if exists:
        where = (presence.c.room_id == session.room_id, presence.c.identity == session.identity)
        await conn.execute(presence.update().where(*where).values(values))
    else:
        key = {"room_id": session.room_id, "identity": session.identity}
        await conn.execute(presence.insert().values({**key, **values}))


async def joined(conn: AsyncConnection, session: Session) -> bool:
    """``participant_joined``; False when the event is older than what is known."""
    row = await _latest(conn, session.room_id, session.identity)
    if row is not None:
        if row.joined_at_ms > session.joined_at_ms:
            return False  # a newer session already joined
        same = (
            row.joined_at_ms == session.joined_at_ms
            and row.participant_sid == session.participant_sid
        )
        if same and not row.present:
            return False  # this session's leaving arrived first
    await _put(conn, session, present=True, exists=row is not None)
    return True


async def left(conn: AsyncConnection, session: Session) -> bool:
    """``participant_left`` or ``participant_connection_aborted``; False when stale.

    Sessions are told apart by their participant sid: a leaving of another sid that did
    not join later than the stored session is about an older session and changes nothing.
    """
    row = await _latest(conn, session.room_id, session.identity)
    if (
        row is not None
        and row.participant_sid != session.participant_sid
        and row.joined_at_ms >= session.joined_at_ms
    ):
        return False  # the identity rejoined since: this leaving is about an older session
    await _put(conn, session, present=False, exists=row is not None)
    return True


async def room_finished(conn: AsyncConnection, room_id: str, room_sid: str) -> None:
    """The room closed: everyone of that room session is gone."""
    where = [presence.c.room_id == room_id, presence.c.present.is_(True)]
    if room_sid:
        where.append(presence.c.room_sid == room_sid)
    await conn.execute(presence.update().where(*where).values(present=False))


async def room_started(conn: AsyncConnection, room_id: str, room_sid: str, created_ms: int) -> None:
    """A new room session: whoever is still listed from an older, earlier one is gone
    (its ``room_finished`` was lost)."""
    await conn.execute(
        presence.update()
        .where(
            presence.c.room_id == room_id,
            presence.c.present.is_(True),
            presence.c.room_sid != room_sid,
            presence.c.joined_at_ms < created_ms,
        )
        .values(present=False)
    )


async def clear_room(conn: AsyncConnection, room_id: str) -> None:
    """Forget the room (its space was deleted)."""
    await conn.execute(presence.delete().where(presence.c.room_id == room_id))


async def reconcile(
    conn: AsyncConnection, room_id: str, sessions: Iterable[Session], asked_ms: int
) -> None:
    """Make presence what ListParticipants said; ``asked_ms``: when it was asked (Unix ms).

    A session not listed is gone only if it joined before the question (one that joined
    meanwhile, told by its webhook, stays); a listed one is written unless a newer
    session of the identity is stored.
    """
    now_present = {s.identity: s for s in sessions}
    rows = {
        row.identity: row
        for row in await conn.execute(sa.select(presence).where(presence.c.room_id == room_id))
    }
    for identity, row in rows.items():
        if row.present and identity not in now_present and row.joined_at_ms < asked_ms:
            where = (presence.c.room_id == room_id, presence.c.identity == identity)
            await conn.execute(presence.update().where(*where).values(present=False))
    for identity, session in now_present.items():
        known = rows.get(identity)
        if known is None or known.joined_at_ms <= session.joined_at_ms:
            await _put(conn, session, present=True, exists=known is not None)


async def rooms_with_presence(conn: AsyncConnection) -> list[str]:
    """The rooms someone is listed in, which the periodic reconcile visits."""
    query = sa.select(presence.c.room_id).where(presence.c.present.is_(True)).distinct()
    return sorted(row.room_id for row in await conn.execute(query))


async def take_lease(
    conn: AsyncConnection, room_id: str, holder: str, now: datetime, seconds: float
) -> bool:
    """Whether ``holder`` may reconcile ``room_id`` now: True when no other instance holds an
    unexpired lease on it (one statement, so two instances cannot both win)."""
    until = now + timedelta(seconds=seconds)
    insert = upsert_of(conn.dialect.name)(reconcile_leases).values(
        room_id=room_id, holder=holder, until=until
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[reconcile_leases.c.room_id],
        set_={"holder": holder, "until": until},
        where=sa.or_(reconcile_leases.c.until <= now, reconcile_leases.c.holder == holder),
    )
    return bool((await conn.execute(upsert)).rowcount)


async def members(conn: AsyncConnection, room_id: str) -> list[Session]:
    """Who is in the room now, in the order they joined."""
    query = (
        sa.select(presence)
        .where(presence.c.room_id == room_id, presence.c.present.is_(True))
        .order_by(presence.c.joined_at_ms, presence.c.identity)
    )
    return [
        Session(
            room_id=row.room_id,
            room_sid=row.room_sid,
            identity=row.identity,
            being_id=row.being_id,
            name=row.name,
            participant_sid=row.participant_sid,
            joined_at_ms=row.joined_at_ms,
        )
        for row in await conn.execute(query)
    ]
