"""Handlers of the ``media`` namespace: LiveKit rooms and tokens for trusted callers."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from schema import media
from server.domain.access import now
from server.domain.presence import subject_of
from server.domain.rooms import JoinGrants
from server.livekit import require_media
from server.procedures.deps import AuthedCtx
from server.rpc import Context, Next, Router, RpcError
from server.storage import revocations

if TYPE_CHECKING:
    from livekit.api import Room

__all__ = ["room_info", "router"]


async def admins_only(ctx: Context[Any], params: Any, call_next: Next) -> Any:
    """``media.*`` is for trusted services: admin principals only (after ``protected``)."""
    if ctx.principal is None or not ctx.principal.is_admin:
        raise RpcError("FORBIDDEN", "media.* is for trusted services (admin principals)")
    return await call_next(ctx, params)


router = Router(middleware=[admins_only])


@router.procedure(media.create_room)
async def create_room(ctx: AuthedCtx, params: media.CreateRoomInput) -> media.MediaRoom:
    """Create the room, or return the existing one (LiveKit's CreateRoom is idempotent)."""
    livekit = require_media(ctx.deps.livekit)
    settings = params.settings or media.RoomSettings()
    room = await livekit.rooms.create_room(
        params.room_id,
        max_participants=settings.max_participants or 0,
        empty_timeout=settings.empty_timeout_secs or 0,
        departure_timeout=settings.departure_timeout_secs or 0,
        metadata=settings.metadata or "",
    )
    return room_info(room)


@router.procedure(media.delete_room)
async def delete_room(ctx: AuthedCtx, params: media.DeleteRoomInput) -> media.DeletedRoom:
    """Delete the room; a room that does not exist is already deleted."""
    deleted = await require_media(ctx.deps.livekit).rooms.delete_room(params.room_id)
    return media.DeletedRoom(room_id=params.room_id, deleted=deleted)


@router.procedure(media.list_rooms)
async def list_rooms(ctx: AuthedCtx, params: media.ListRoomsInput) -> list[media.MediaRoom]:
    """The active rooms, by name."""
    rooms = await require_media(ctx.deps.livekit).rooms.list_rooms()
    return sorted((room_info(r) for r in rooms), key=lambda r: r.room_id)


@router.procedure(media.generate_token)
async def generate_token(ctx: AuthedCtx, params: media.GenerateTokenInput) -> media.MediaToken:
    """A join token with the participant's grants spelt out, and the URL to use it with."""
    livekit = require_media(ctx.deps.livekit)
    who = params.participant
    subject = subject_of(who.identity, who.attributes)
    async with ctx.deps.storage.read() as conn:  # a removed being gets no token, from anyone
        until = await revocations.active_until(conn, params.room_id, subject, now())
    if until is not None:
        message = f"{subject} was removed from {params.room_id} until {until.isoformat()}"
        raise RpcError("FORBIDDEN", message, reason="revoked", retryable=True)
    grants = JoinGrants(
        can_publish=who.can_publish,
        can_subscribe=who.can_subscribe,
        can_publish_data=who.can_publish_data,
        can_publish_sources=(
            None
            if who.can_publish_sources is None
            else tuple(dict.fromkeys(who.can_publish_sources))
        ),
    )
    token = livekit.mint_token(
        room=params.room_id,
        identity=who.identity,
        grants=grants,
        ttl=datetime.timedelta(seconds=params.ttl_seconds),
        name=who.name,
        metadata=who.metadata,
        attributes=who.attributes,
    )
    return media.MediaToken(token=token, url=livekit.url)


@router.procedure(media.media_url)
async def media_url(ctx: AuthedCtx, params: media.MediaUrlInput) -> str | None:
    """The URL browsers connect to; null when media is off (needs no call to LiveKit)."""
    livekit = ctx.deps.livekit
    return None if livekit is None else livekit.url


def room_info(room: Room) -> media.MediaRoom:
    """A LiveKit room as the contract shows it."""
    created_ms = room.creation_time_ms or room.creation_time * 1000
    return media.MediaRoom(
        room_id=room.name,
        sid=room.sid,
        created_at=datetime.datetime.fromtimestamp(created_ms / 1000, datetime.UTC),
        max_participants=room.max_participants,
        empty_timeout_secs=room.empty_timeout,
        departure_timeout_secs=room.departure_timeout,
        metadata=room.metadata,
        num_participants=room.num_participants,
    )
