"""Handlers of the ``presence`` namespace: who is in a space, with a status per session.

Sessions of our own are held by a WebSocket (``presence.join``); LiveKit's come
from its webhooks. Access is the space's: whoever may see it may be present in
it, and a private space is NOT_FOUND to everyone else.
"""

from __future__ import annotations

import msgspec

from schema import presence
from server.domain.access import now
from server.domain.presence import Member, PresentSession, SessionKey
from server.livekit import require_media
from server.livekit.participants import session
from server.procedures._presence import PresenceKeeper
from server.procedures.deps import AuthedCtx, Ctx
from server.procedures.space import find_space
from server.rpc import Router, RpcError
from server.storage import presence as stored
from server.storage import presence_sessions as sessions

__all__ = ["member_of", "router"]

router = Router()


def _session_of(found: PresentSession) -> presence.PresenceSession:
    return presence.PresenceSession(
        identity=found.identity,
        device=found.device,
        status=found.status,
        custom_status=found.custom_status,
        since=found.since,
        source=found.source,
    )


def member_of(found: Member) -> presence.PresentMember:
    """A member as the contract shows it."""
    return presence.PresentMember(
        being_id=found.being_id,
        identity=found.identity,
        name=found.name,
        since=found.since,
        sessions=[_session_of(s) for s in found.sessions],
    )


@router.procedure(presence.members)
async def members(ctx: Ctx, params: presence.PresenceMembersInput) -> list[presence.PresentMember]:
    """Live sessions of both sources (with ``reconcile``, LiveKit's asked of LiveKit first)."""
    room_id = params.room_being_id
    storage = ctx.deps.storage
    async with storage.read() as conn:
        await find_space(conn, room_id, ctx.principal)
    if params.reconcile:
        await _reconcile(ctx, room_id)
    async with storage.read() as conn:
        found = await sessions.room_members(conn, room_id, now())
    return [member_of(m) for m in found]


async def _reconcile(ctx: Ctx, room_id: str) -> None:
    if ctx.principal is None:
        raise RpcError("UNAUTHORIZED", "Sign in to reconcile presence", reason="anonymous")
    rooms = require_media(ctx.deps.livekit).rooms
    room = await rooms.get_room(room_id)
    connected = [] if room is None else await rooms.list_participants(room_id)
    sid = "" if room is None else room.sid
    async with ctx.deps.storage.write() as conn:
        at = now()
        before = await sessions.room_members(conn, room_id, at)
        await stored.reconcile(conn, room_id, [session(room_id, sid, p) for p in connected])
        await _keeper(ctx).room_told(conn, room_id, before, at)


def _key(ctx: AuthedCtx, room_id: str, device: str | None) -> SessionKey:
    return SessionKey(room_id, ctx.principal.being_id, sessions.device_of(device))


def _keeper(ctx: Ctx) -> PresenceKeeper:
    return ctx.deps.presence


@router.procedure(presence.join)
async def join(ctx: AuthedCtx, params: presence.PresenceJoinInput) -> presence.PresenceJoined:
    """Hold a session while this socket is open; a reconnect within its grace resumes it."""
    connection = ctx.connection
    if connection is None:
        raise RpcError(
            "BAD_REQUEST",
            "presence.join holds a session while a WebSocket is open: "
            "call it on a socket (GET /rpc with Upgrade: websocket)",
            reason="websocket_required",
        )
    keeper = _keeper(ctx)
    key = _key(ctx, params.room_being_id, params.device)
    if keeper.hold(key, connection.id):
        connection.on_close(lambda: keeper.release(connection.id))
    try:
        async with ctx.deps.storage.write() as conn:
            await find_space(conn, key.room_id, ctx.principal)
            found, resumed = await keeper.open(
                conn, key, status=params.status, custom_status=params.custom_status
            )
    except BaseException:
        keeper.let_go(key, connection.id)
        raise
    return presence.PresenceJoined(member=member_of(found), resumed=resumed)


@router.procedure(presence.update)
async def update(ctx: AuthedCtx, params: presence.PresenceUpdateInput) -> presence.PresentMember:
    """Change the status or custom status of one of the caller's sessions."""
    values: dict[str, str | None] = {}
    if params.status is not msgspec.UNSET:
        values["status"] = params.status
    if params.custom_status is not msgspec.UNSET:
        values["custom_status"] = params.custom_status
    key = _key(ctx, params.room_being_id, params.device)
    async with ctx.deps.storage.write() as conn:
        await find_space(conn, key.room_id, ctx.principal)
        found = await _keeper(ctx).change(conn, key, **values)
    if found is None:
        raise RpcError(
            "NOT_FOUND",
            f"{key.being_id} has no session in {key.room_id}: presence.join first",
            reason="not_present",
        )
    return member_of(found)


@router.procedure(presence.leave)
async def leave(ctx: AuthedCtx, params: presence.PresenceLeaveInput) -> bool:
    """End one of the caller's sessions at once, without a grace period."""
    key = _key(ctx, params.room_being_id, params.device)
    keeper = _keeper(ctx)
    async with ctx.deps.storage.write() as conn:
        await find_space(conn, key.room_id, ctx.principal)
        ended = await keeper.end(conn, key)
    keeper.forget(key)
    return ended
