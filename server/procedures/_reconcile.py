"""Presence from LiveKit itself: one room on demand, every room with presence periodically.

Webhooks can be lost (LiveKit drops events queued longer than 30 s) or come out of
order, so what they left is repaired from ``ListParticipants``: on demand
(``presence.members {reconcile: true}``) and every ``LIVEKIT_RECONCILE_SECONDS``
for each room someone is listed in. A lease row per room (``take_lease``) lets
one instance at a time reconcile a room, whichever instances run the loop.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from server.domain.access import now
from server.procedures.deps import Deps
from server.rpc import RpcError
from server.storage import presence, presence_sessions

if TYPE_CHECKING:
    from server.livekit import LiveKit

__all__ = ["reconcile_due", "reconcile_room"]

log = logging.getLogger("roomrpc.reconcile")


async def reconcile_room(deps: Deps, livekit: LiveKit, room_id: str) -> None:
    """Make the room's presence what LiveKit says now."""
    asked_ms = int(time.time() * 1000)
    room = await livekit.rooms.get_room(room_id)
    connected = [] if room is None else await livekit.rooms.list_participants(room_id)
    sid = "" if room is None else room.sid
    from server.livekit.participants import session  # livekit-api: loaded with media on only

    sessions = [session(room_id, sid, p) for p in connected]
    async with deps.storage.write() as conn:  # watchers are told what changed
        at = now()
        before = await presence_sessions.room_members(conn, room_id, at)
        await presence.reconcile(conn, room_id, sessions, asked_ms)
        await deps.presence.room_told(conn, room_id, before, at)


async def reconcile_due(deps: Deps, livekit: LiveKit, holder: str, every: float) -> list[str]:
    """Reconcile each room with presence whose lease ``holder`` wins; the rooms done."""
    async with deps.storage.read() as conn:
        rooms = await presence.rooms_with_presence(conn)
    done: list[str] = []
    for room_id in rooms:
        async with deps.storage.write() as conn:
            mine = await presence.take_lease(conn, room_id, holder, now(), every)
        if not mine:
            continue  # another instance reconciles it this round
        try:
            await reconcile_room(deps, livekit, room_id)
        except RpcError as error:  # LiveKit down or slow: the next round tries again
            log.warning("reconcile of %s failed: %s", room_id, error.reason)
            continue
        done.append(room_id)
    return done
