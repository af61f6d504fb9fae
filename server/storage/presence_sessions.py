"""Queries on presence sessions of our own, and the one model that joins LiveKit's to them.

A socket session is one row keyed by (room, being, device). The instance whose
socket holds it renews ``expires_at`` by its heartbeat; when the socket closes
the row stays for the grace period (``connected`` false). A row whose
``expires_at`` has passed is gone for every reader at once, whichever instance
sweeps it later, so a crashed server leaves no ghosts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.domain.presence import (
    NO_DEVICE,
    Member,
    PresentSession,
    Session,
    SessionKey,
    Status,
    livekit_session,
    members_of,
)
from server.storage.presence import members as livekit_members
from server.storage.tables import beings, presence, presence_sessions

__all__ = [
    "Opened",
    "any_expired",
    "close",
    "device_of",
    "end",
    "get",
    "lock",
    "member",
    "open_session",
    "renew",
    "room_members",
    "sweep",
    "update",
]

_T = presence_sessions


def _where(key: SessionKey) -> tuple[sa.ColumnElement[bool], ...]:
    return (_T.c.room_id == key.room_id, _T.c.being_id == key.being_id, _T.c.device == key.device)


def _socket_sessions(
    where: Iterable[sa.ColumnElement[bool]], live_at: datetime | None
) -> sa.Select[Any]:
    """Sessions with their being's name; only those live at ``live_at`` when given."""
    query = sa.select(_T, beings.c.name).join(beings, beings.c.id == _T.c.being_id).where(*where)
    return query if live_at is None else query.where(_T.c.expires_at > live_at)


def _session(row: sa.Row[Any]) -> PresentSession:
    return PresentSession(
        identity=row.being_id,
        being_id=row.being_id,
        name=row.name,
        device=row.device or None,
        status=row.status,
        custom_status=row.custom_status,
        since=row.since,
        source="socket",
    )


async def room_members(conn: AsyncConnection, room_id: str, at: datetime) -> list[Member]:
    """Everyone live in the room at ``at``: socket sessions and LiveKit's, each being once."""
    rows = await conn.execute(_socket_sessions([_T.c.room_id == room_id], at))
    sockets = [_session(row) for row in rows]
    livekit = [livekit_session(s) for s in await livekit_members(conn, room_id)]
    return members_of([*sockets, *livekit])


async def member(conn: AsyncConnection, room_id: str, key: str, at: datetime) -> Member | None:
    """One member of the room (a being id, or a LiveKit identity that is no being's)."""
    rows = await conn.execute(_socket_sessions([_T.c.room_id == room_id, _T.c.being_id == key], at))
    sockets = [_session(row) for row in rows]
    lk_where = sa.or_(
        presence.c.being_id == key,
        sa.and_(presence.c.being_id.is_(None), presence.c.identity == key),
    )
    lk_rows = await conn.execute(
        sa.select(presence).where(
            presence.c.room_id == room_id, presence.c.present.is_(True), lk_where
        )
    )
    livekit = [livekit_session(_livekit(row)) for row in lk_rows]
    found = members_of([*sockets, *livekit])
    return found[0] if found else None


def _livekit(row: sa.Row[Any]) -> Session:
    return Session(
        room_id=row.room_id,
        room_sid=row.room_sid,
        identity=row.identity,
        being_id=row.being_id,
        name=row.name,
        participant_sid=row.participant_sid,
        joined_at_ms=row.joined_at_ms,
    )


@dataclass(frozen=True, slots=True)
class Opened:
    """What ``open_session`` did: ``resumed`` when a live session was taken up again."""

    resumed: bool


async def get(conn: AsyncConnection, key: SessionKey, at: datetime) -> sa.Row[Any] | None:
    """The session's row while it is live."""
    query = sa.select(_T).where(*_where(key), _T.c.expires_at > at)
    return (await conn.execute(query)).first()


async def open_session(
    conn: AsyncConnection,
    key: SessionKey,
    *,
    status: Status | None,
    custom_status: str | None,
    instance_id: str,
    at: datetime,
    expires_at: datetime,
) -> Opened:
    """Hold ``key`` on ``instance_id``: a live session is resumed (its status kept unless
    one is given); an expired one not yet swept is replaced by a new session."""
    row = (await conn.execute(sa.select(_T).where(*_where(key)))).first()
    held = {"instance_id": instance_id, "connected": True, "expires_at": expires_at}
    if row is not None and row.expires_at > at:
        changes: dict[str, Any] = dict(held)
        if status is not None:
            changes["status"] = status
        if custom_status is not None:
            changes["custom_status"] = custom_status
        await conn.execute(_T.update().where(*_where(key)).values(changes))
        return Opened(resumed=True)
    if row is not None:
        await conn.execute(_T.delete().where(*_where(key)))
    fresh = {
        "room_id": key.room_id,
        "being_id": key.being_id,
        "device": key.device,
        "status": status or "online",
        "custom_status": custom_status,
        "since": at,
    }
    await conn.execute(_T.insert().values({**fresh, **held}))
    return Opened(resumed=False)


async def update(conn: AsyncConnection, key: SessionKey, at: datetime, **values: Any) -> bool:
    """Change a live session's ``status`` / ``custom_status``; False when there is none."""
    query = _T.update().where(*_where(key), _T.c.expires_at > at).values(values)
    return bool((await conn.execute(query)).rowcount)


async def lock(conn: AsyncConnection, key: SessionKey) -> None:
    """Take the session's row for this transaction (SQLite's writer holds the whole file)."""
    await conn.execute(sa.select(_T.c.device).where(*_where(key)).with_for_update())


async def close(
    conn: AsyncConnection, key: SessionKey, instance_id: str, expires_at: datetime
) -> bool:
    """The holding socket closed: the session lives on until ``expires_at`` (its grace).

    Only the instance that holds it may: a reconnect elsewhere took it over.
    """
    query = (
        _T.update()
        .where(*_where(key), _T.c.instance_id == instance_id, _T.c.connected.is_(True))
        .values(connected=False, expires_at=expires_at)
    )
    return bool((await conn.execute(query)).rowcount)


async def end(conn: AsyncConnection, key: SessionKey) -> bool:
    """Leave at once; False when there was no session."""
    return bool((await conn.execute(_T.delete().where(*_where(key)))).rowcount)


async def renew(
    conn: AsyncConnection, instance_id: str, keys: Iterable[SessionKey], expires_at: datetime
) -> set[SessionKey]:
    """The heartbeat: push back the expiry of the sessions this instance holds open.

    Returns the keys that were renewed; a held key missing from them was swept
    (this instance was silent too long) and must be opened again.
    """
    wanted = set(keys)
    if not wanted:
        return set()
    query = (
        _T.update()
        .where(_T.c.instance_id == instance_id, _T.c.connected.is_(True))
        .values(expires_at=expires_at)
        .returning(_T.c.room_id, _T.c.being_id, _T.c.device)
    )
    renewed = {SessionKey(r.room_id, r.being_id, r.device) for r in await conn.execute(query)}
    return renewed & wanted


async def any_expired(conn: AsyncConnection, at: datetime) -> bool:
    """Whether a sweep at ``at`` has anything to do (a read: most sweeps find nothing)."""
    query = sa.select(_T.c.room_id).where(_T.c.expires_at <= at).limit(1)
    return (await conn.execute(query)).first() is not None


async def sweep(
    conn: AsyncConnection, at: datetime, limit: int = 500
) -> list[tuple[str, PresentSession]]:
    """Delete up to ``limit`` expired sessions: each one deleted, with its room (whoever
    else sweeps at once, a row is deleted by one sweeper only)."""
    expired = _socket_sessions([_T.c.expires_at <= at], None)
    rows = list(await conn.execute(expired.order_by(_T.c.expires_at).limit(limit)))
    gone = []
    for row in rows:
        key = SessionKey(row.room_id, row.being_id, row.device)
        query = _T.delete().where(*_where(key), _T.c.expires_at <= at)
        if (await conn.execute(query)).rowcount:
            gone.append((row.room_id, _session(row)))
    return gone


def device_of(device: str | None) -> str:
    """The stored device of a session (``""`` when joined without one)."""
    return device or NO_DEVICE
