"""Handlers of the ``presence`` namespace: who is in a space, with a status per session.

Sessions of our own are held by a WebSocket (``presence.join``); LiveKit's come
from its webhooks. Access is the space's: whoever may see it may be present in
it, and a private space is NOT_FOUND to everyone else.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial

import msgspec

from schema import Event, Feed, presence
from server.bus import RESYNC, Message, Subscription
from server.domain.access import check_text, now
from server.domain.presence import Member, PresentSession, SessionKey, change_of
from server.livekit import require_media
from server.procedures._live import event_after, next_message, space_channel
from server.procedures._presence import PRESENCE, PresenceKeeper, presence_channel
from server.procedures._reconcile import reconcile_room
from server.procedures.deps import AuthedCtx, Ctx, Deps
from server.procedures.space import find_space
from server.rpc import Principal, Router, RpcError
from server.storage import presence_sessions as sessions

__all__ = ["member_of", "router"]

router = Router()
INTENTION = "intention"  # a space-channel message presence watchers need not read


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
    await reconcile_room(ctx.deps, require_media(ctx.deps.livekit), room_id)


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
    check_text(params.custom_status, "$.customStatus")
    keeper = _keeper(ctx)
    key = _key(ctx, params.room_being_id, params.device)
    if keeper.hold(key, connection.id):
        connection.on_close(partial(keeper.release, connection.id))
    try:
        async with ctx.deps.storage.write() as conn:
            await find_space(conn, key.room_id, ctx.principal)
            found, resumed = await keeper.open(
                conn, key, status=params.status, custom_status=params.custom_status
            )
    except BaseException:
        keeper.let_go(key, connection.id)
        raise
    finally:
        keeper.opened(key)
    return presence.PresenceJoined(member=member_of(found), resumed=resumed)


@router.procedure(presence.update)
async def update(ctx: AuthedCtx, params: presence.PresenceUpdateInput) -> presence.PresentMember:
    """Change the status or custom status of one of the caller's sessions."""
    values: dict[str, str | None] = {}
    if params.status is not msgspec.UNSET:
        values["status"] = params.status
    if params.custom_status is not msgspec.UNSET:
        check_text(params.custom_status, "$.customStatus")
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


@router.procedure(presence.watch)
async def watch(ctx: Ctx, params: presence.PresenceWatchInput) -> Feed[presence.PresenceEvent]:
    """Listen first (the room's presence, and the space for access), then read the snapshot."""
    after = event_after(params.last_event_id) or 0
    deps, room_id = ctx.deps, params.room_being_id
    limit = deps.settings.live_queue_size
    listening = _Listening(
        deps.bus.subscribe(presence_channel(room_id), limit=limit),
        deps.bus.subscribe(space_channel(room_id), limit=limit),
    )
    try:
        async with deps.storage.read() as conn:
            await find_space(conn, room_id, ctx.principal)
    except BaseException:
        listening.close()
        raise
    return _presence_events(deps, ctx.principal, room_id, after, listening)


class _Listening:
    """Two bus subscriptions read as one: each message once, none lost between reads."""

    def __init__(self, room: Subscription, space: Subscription) -> None:
        self.room, self.space = room, space
        self._waiting: dict[asyncio.Task[Message], Subscription] = {}

    async def next(self) -> Message:
        """The next message of either (RpcError once a subscriber fell too far behind)."""
        for subscription in (self.room, self.space):
            if subscription not in self._waiting.values():
                self._waiting[asyncio.ensure_future(next_message(subscription))] = subscription
        done, _ = await asyncio.wait(self._waiting, return_when=asyncio.FIRST_COMPLETED)
        task = next(t for t in self._waiting if t in done)  # the others stay for next time
        del self._waiting[task]
        return task.result()

    def close(self) -> None:
        for task in self._waiting:
            task.cancel()
        self._waiting.clear()
        self.room.close()
        self.space.close()


async def _presence_events(
    deps: Deps, principal: Principal | None, room_id: str, after: int, listening: _Listening
) -> AsyncIterator[Event[presence.PresenceEvent]]:
    ids = itertools.count(after + 1)  # increasing, and past the id a resume named
    try:
        synced = now()  # what this watcher has seen is as of then
        async with deps.storage.read() as conn:
            known = {m.identity: m for m in await sessions.room_members(conn, room_id, synced)}
        yield Event(str(next(ids)), _snapshot(known))
        while True:
            message = await listening.next()
            if message.c == listening.space.channel:
                if message.k not in (RESYNC, INTENTION):  # the space or its members changed
                    async with deps.storage.read() as conn:
                        await find_space(conn, room_id, principal)
            elif message.k == RESYNC:  # messages may have been lost: the rows say all
                synced = now()
                async with deps.storage.read() as conn:
                    members = await sessions.room_members(conn, room_id, synced)
                known = {m.identity: m for m in members}
                yield Event(str(next(ids)), _snapshot(known))
            elif message.k == PRESENCE and message.b is not None:
                synced, told = await _told(deps, room_id, message, known, synced)
                if told is not None:
                    yield Event(str(next(ids)), told)
    finally:
        listening.close()


def _snapshot(known: dict[str, Member]) -> presence.PresenceSnapshotEvent:
    members = sorted(known.values(), key=lambda m: (m.since, m.identity))
    return presence.PresenceSnapshotEvent(members=[member_of(m) for m in members])


async def _told(
    deps: Deps, room_id: str, message: Message, known: dict[str, Member], synced: datetime
) -> tuple[datetime, presence.PresenceEvent | None]:
    """When the member a message names was read, and what this watcher has not seen of it
    yet (several writes may fold into one event)."""
    key = message.b
    assert key is not None
    read_at, now_member = await deps.presence.member_now(room_id, key, message.id, synced)
    before = known.get(key)
    change = change_of(before, now_member)
    if now_member is None:
        known.pop(key, None)
    else:
        known[key] = now_member
    if change == "leave" and before is not None:
        return read_at, presence.PresenceLeaveEvent(member=member_of(before.gone()))
    if change is not None and now_member is not None:
        event = presence.PresenceJoinEvent if change == "join" else presence.PresenceUpdateEvent
        return read_at, event(member=member_of(now_member))
    return read_at, None
