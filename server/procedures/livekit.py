"""Handlers of the ``livekit`` namespace: join tokens, data messages, room control."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from schema import livekit
from schema.errors import Issue
from schema.media import MediaRoom
from server.domain.access import not_found, now
from server.domain.presence import (
    BEING_ATTRIBUTE,
    CREATED_ATTRIBUTE,
    SERVER_ATTRIBUTES,
    being_of,
    created_attribute,
    subject_of,
)
from server.domain.rooms import (
    LOCKED_UNTIL,
    RANKS,
    Revocation,
    grants_for,
    may_name_agents,
    may_record,
    media_allowed,
    rank_of,
    revised,
)
from server.livekit import AgentDispatch, require_media
from server.procedures._access import find_visible, find_visible_cached
from server.procedures._rooms import Room, any_room, check_target, managed_room, member_room
from server.procedures.deps import AuthedCtx
from server.procedures.media import room_info
from server.procedures.space import find_space
from server.rpc import Principal, Router, RpcError
from server.storage import beings, memberships, recordings, revocations

if TYPE_CHECKING:
    from livekit.protocol.agent_dispatch import AgentDispatch as AgentDispatch_

__all__ = ["JoinRequest", "join_token", "router"]

router = Router()
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """What a join token is asked for, by ``getJoinToken`` or by ``POST /livekit/token``."""

    room_id: str
    ttl: timedelta
    device: str | None = None
    metadata: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    agents: Sequence[AgentDispatch] = ()


async def join_token(ctx: AuthedCtx, request: JoinRequest) -> livekit.JoinToken:
    """The one way a join token is made: the cookbook's checks in its order, then
    membership, revocation and role grants; bots join as agents."""
    handle = require_media(ctx.deps.livekit)
    principal, room_id = ctx.principal, request.room_id
    storage = ctx.deps.storage
    # The space and the caller's role from the row cache (the bus keeps it right); the
    # caller's name and any revocation from the database, exact at join time.
    space, role = await find_visible_cached(storage, room_id, principal)
    if space.type != "space":
        raise RpcError("BAD_REQUEST", f"{room_id} is not a space", reason="not_a_space")
    async with storage.read() as conn:
        if request.agents:  # dispatching agents is checked against the database's rows
            space, role = await find_visible(conn, room_id, principal)
        me = await revocations.joiner(conn, room_id, principal.being_id, now())
        if request.agents:
            await _check_agents(conn, space.id, role, principal, request.agents)
    if me is None:
        raise RpcError("UNAUTHORIZED", "Your being no longer exists", reason="no_such_being")
    if me.revoked_until is not None:
        until = me.revoked_until.isoformat()
        message = f"You were removed from {room_id}; you may rejoin after {until}"
        raise RpcError("FORBIDDEN", message, reason="revoked", retryable=True)
    device = principal.device if request.device is None else request.device
    identity = principal.being_id if device is None else f"{principal.being_id}#{device}"
    token = handle.mint_token(
        room=room_id,
        identity=identity,
        grants=grants_for(space, role, principal),
        ttl=request.ttl,
        name=me.name,
        metadata=request.metadata,
        attributes={
            **request.attributes,
            BEING_ATTRIBUTE: principal.being_id,
            CREATED_ATTRIBUTE: created_attribute(me.created_at),
        },
        agent=me.type == "bot",
        agents=request.agents,
    )
    return livekit.JoinToken(
        token=token, ws_url=handle.url, room_id=room_id, identity=identity, name=me.name
    )


async def _check_agents(
    conn: AsyncConnection,
    space_id: str,
    role: str | None,
    principal: Principal,
    agents: Sequence[AgentDispatch],
) -> None:
    """Owners and admins name agents, and only bots that are members of the space."""
    if not may_name_agents(principal, role):
        message = f"Only owners of {space_id} dispatch agents into its room"
        raise RpcError("FORBIDDEN", message, reason="not_owner")
    for agent in agents:
        if not await memberships.is_bot_member(conn, space_id, agent.agent_name):
            message = f"{agent.agent_name} is not a bot of {space_id}"
            raise RpcError("FORBIDDEN", message, reason="not_a_bot_of_space")


@router.procedure(livekit.get_join_token)
async def get_join_token(ctx: AuthedCtx, params: livekit.GetJoinTokenInput) -> livekit.JoinToken:
    """A join token with the role's grants (see ``join_token``)."""
    ttl = timedelta(seconds=params.ttl_seconds)
    return await join_token(ctx, JoinRequest(params.room_being_id, ttl, params.device))


async def _send(
    room: Room, payload: object, topic: str, targets: list[str] | None
) -> livekit.MessageSent:
    """Who is connected is asked first: nobody there (no open room) means nothing to send,
    and an empty list of destinations would mean everyone."""
    connected = await room.livekit.rooms.list_participants(room.id)
    destinations: list[str] | None = None
    if targets is not None:
        wanted = set(targets)
        destinations = [
            p.identity for p in connected if being_of(p.identity, p.attributes) in wanted
        ]
    if not connected or destinations == []:
        return livekit.MessageSent(
            room_id=room.id, topic=topic, sent=False, destination_identities=destinations
        )
    await room.livekit.rooms.send_data(
        room.id, _encode(payload), topic=topic, destination_identities=destinations or ()
    )
    return livekit.MessageSent(
        room_id=room.id, topic=topic, sent=True, destination_identities=destinations
    )


def _message(kind: str, ctx: AuthedCtx, message: str) -> dict[str, object]:
    """The cookbook's data message: ``{type, fromBeingId, message, timestamp}`` (Unix ms)."""
    return {
        "type": kind,
        "fromBeingId": ctx.principal.being_id,
        "message": message,
        "timestamp": int(time.time() * 1000),
    }


@router.procedure(livekit.send_system_message)
async def send_system_message(
    ctx: AuthedCtx, params: livekit.SendSystemMessageInput
) -> livekit.MessageSent:
    """``{type: "system_message", fromBeingId, message, timestamp}``, reliable, on the topic."""
    room = await managed_room(ctx, params.room_being_id)
    payload = _message("system_message", ctx, params.message)
    topic = params.topic or livekit.SYSTEM_TOPIC
    return await _send(room, payload, topic, params.target_being_ids)


@router.procedure(livekit.send_test_message)
async def send_test_message(
    ctx: AuthedCtx, params: livekit.SendTestMessageInput
) -> livekit.MessageSent:
    """The cookbook's test message, from a member, to everyone in the room."""
    room = await member_room(ctx, params.room_being_id)
    payload = _message("test_message", ctx, params.message)
    return await _send(room, payload, livekit.DEMO_TOPIC, None)


@router.procedure(livekit.list_participants)
async def list_participants(
    ctx: AuthedCtx, params: livekit.ListParticipantsInput
) -> list[livekit.Participant]:
    """LiveKit's own list, in the order they joined."""
    room = await managed_room(ctx, params.room_being_id)
    found = await room.livekit.rooms.list_participants(room.id)
    from server.livekit.participants import participant  # livekit-api: loaded with media on only

    return sorted((participant(p) for p in found), key=lambda p: (p.joined_at, p.identity))


async def _target(ctx: AuthedCtx, room: Room, identity: str) -> str:
    """The target's being (or bare identity), once the caller may act on it."""
    async with ctx.deps.storage.read() as conn:
        await check_target(conn, room, ctx.principal, being_of(identity))
    return subject_of(identity)


def _invalid(path: str, message: str) -> RpcError:
    return RpcError("INVALID_PARAMS", issues=[Issue(path=path, message=message)])


async def _revoke(
    ctx: AuthedCtx, room: Room, subject: str, seconds: int, *, lock: bool = False
) -> datetime | None:
    """The revocation in force once the caller's is applied (``revised`` says how)."""
    stamp = now()
    wanted = stamp + timedelta(seconds=seconds) if seconds else None
    if lock:
        wanted = LOCKED_UNTIL
    async with ctx.deps.storage.write() as conn:
        await beings.lock(conn, room.id)  # one room's revocations take turns
        if wanted is not None and not await beings.exists(conn, subject):
            raise not_found(subject)  # revocations name beings, not whatever identity
        before = await revocations.current(conn, room.id, subject, stamp)
        after = revised(before, wanted, rank_of(ctx.principal, room.role))
        if after is not None and after.until == LOCKED_UNTIL:  # only an owner lifts a lock
            after = Revocation(LOCKED_UNTIL, max(after.rank, RANKS["owner"]))
        if after is not None and after != before:
            await revocations.revoke(conn, room.id, subject, after, ctx.principal.being_id)
    return None if after is None else after.until


@router.procedure(livekit.remove_participant)
async def remove_participant(
    ctx: AuthedCtx, params: livekit.RemoveParticipantInput
) -> livekit.RemovedParticipant:
    """Revoke first (a rejoin racing the removal is refused), then disconnect."""
    room = await managed_room(ctx, params.room_being_id)
    subject = await _target(ctx, room, params.identity)
    if (params.revoke_seconds or params.lock) and being_of(params.identity) is None:
        message = "Only a being's participants are revoked; remove this one with revokeSeconds 0"
        raise _invalid("$.identity", message)
    until = await _revoke(ctx, room, subject, params.revoke_seconds, lock=params.lock)
    removed = await room.livekit.rooms.remove_participant(
        room.id, params.identity, revoke_tokens=until is not None
    )
    return livekit.RemovedParticipant(
        identity=params.identity,
        being_id=subject,
        removed=removed,
        revoked_until=until,
        locked=until == LOCKED_UNTIL,
    )


@router.procedure(livekit.lift_revocation)
async def lift_revocation(
    ctx: AuthedCtx, params: livekit.LiftRevocationInput
) -> livekit.RevocationLifted:
    """Owners and admins lift revocations set by no higher rank than theirs."""
    async with ctx.deps.storage.write() as conn:
        if not await beings.lock(conn, params.room_being_id):
            raise not_found(params.room_being_id)
        _, role = await find_space(conn, params.room_being_id, ctx.principal)
        rank = rank_of(ctx.principal, role)
        if rank < RANKS["owner"]:
            message = f"Only owners and admins lift revocations in {params.room_being_id}"
            raise RpcError("FORBIDDEN", message, reason="not_owner")
        found = await revocations.current(conn, params.room_being_id, params.being_id, now())
        if found is not None and found.rank > rank:
            message = "An admin set this revocation: only an admin lifts it"
            raise RpcError("FORBIDDEN", message, reason="outranked")
        if found is not None:
            await revocations.lift(conn, params.room_being_id, params.being_id)
    return livekit.RevocationLifted(
        room_id=params.room_being_id, being_id=params.being_id, lifted=found is not None
    )


@router.procedure(livekit.mute_track)
async def mute_track(ctx: AuthedCtx, params: livekit.MuteTrackInput) -> livekit.Track:
    """Mute a published track."""
    room = await managed_room(ctx, params.room_being_id)
    await _target(ctx, room, params.identity)
    info = await room.livekit.rooms.mute_track(
        room.id, params.identity, params.track_sid, params.muted
    )
    from server.livekit.participants import track  # livekit-api: loaded with media on only

    return track(info)


@router.procedure(livekit.update_participant)
async def update_participant(
    ctx: AuthedCtx, params: livekit.UpdateParticipantInput
) -> livekit.Participant:
    """Publishing media needs a space that allows it; revoking publish unpublishes the
    participant's tracks (LiveKit does that itself)."""
    owned = sorted(SERVER_ATTRIBUTES.intersection(params.attributes or ()))
    if owned:
        raise _invalid(f"$.attributes.{owned[0]}", "This attribute is the server's: it is not set")
    room = await managed_room(ctx, params.room_being_id)
    await _target(ctx, room, params.identity)
    permission = None
    if params.permissions is not None:
        if params.permissions.can_publish and not media_allowed(room.space):
            message = f"{room.id} does not allow publishing media (metadata.allowMedia)"
            raise RpcError("FORBIDDEN", message, reason="media_not_allowed")
        # LiveKit replaces the whole permission set (a field left out becomes false, so
        # canPublishSources, hidden, agent, canUpdateMetadata would be lost): the
        # participant's own set is read and only the three flags given are changed.
        current = await room.livekit.rooms.get_participant(room.id, params.identity)
        from livekit.api import ParticipantPermission  # livekit-api: loaded with media on only

        permission = ParticipantPermission()
        permission.CopyFrom(current.permission)
        permission.can_publish = params.permissions.can_publish
        permission.can_subscribe = params.permissions.can_subscribe
        permission.can_publish_data = params.permissions.can_publish_data
    info = await room.livekit.rooms.update_participant(
        room.id,
        params.identity,
        name=params.name,
        metadata=params.metadata,
        attributes=params.attributes,
        permission=permission,
    )
    from server.livekit.participants import participant  # livekit-api: loaded with media on only

    return participant(info)


@router.procedure(livekit.update_room_metadata)
async def update_room_metadata(
    ctx: AuthedCtx, params: livekit.UpdateRoomMetadataInput
) -> MediaRoom:
    """Replace the metadata of the active room."""
    room = await managed_room(ctx, params.room_being_id)
    return room_info(await room.livekit.rooms.update_room_metadata(room.id, params.metadata))


# Bots as agents --------------------------------------------------------------------------


def _dispatch(found: AgentDispatch_) -> livekit.Dispatch:
    created = found.state.created_at
    return livekit.Dispatch(
        dispatch_id=found.id,
        room_id=found.room,
        bot_id=found.agent_name,
        metadata=found.metadata,
        created_at=datetime.fromtimestamp(created / 1e9, UTC) if created else None,
    )


@router.procedure(livekit.dispatch_bot)
async def dispatch_bot(ctx: AuthedCtx, params: livekit.DispatchBotInput) -> livekit.Dispatch:
    """Only a bot that is a member of the space is sent, under its being id as agent name."""
    room = await managed_room(ctx, params.room_being_id)
    async with ctx.deps.storage.read() as conn:
        if not await memberships.is_bot_member(conn, room.id, params.bot_id):
            message = f"{params.bot_id} is not a bot of {room.id}"
            raise RpcError("FORBIDDEN", message, reason="not_a_bot_of_space")
    made = await room.livekit.agents.dispatch(room.id, params.bot_id, params.metadata or "")
    return _dispatch(made)


@router.procedure(livekit.list_dispatches)
async def list_dispatches(
    ctx: AuthedCtx, params: livekit.ListDispatchesInput
) -> list[livekit.Dispatch]:
    """LiveKit's own list for the room."""
    room = await managed_room(ctx, params.room_being_id)
    return [_dispatch(d) for d in await room.livekit.agents.list(room.id)]


@router.procedure(livekit.remove_dispatch)
async def remove_dispatch(ctx: AuthedCtx, params: livekit.RemoveDispatchInput) -> livekit.Dispatch:
    """Withdraw a dispatch of the room (NOT_FOUND if the room has no such dispatch)."""
    room = await managed_room(ctx, params.room_being_id)
    return _dispatch(await room.livekit.agents.remove(room.id, params.dispatch_id))


# Recordings ------------------------------------------------------------------------------


async def _recorded_room(ctx: AuthedCtx, space_id: str) -> tuple[Room, str]:
    """The room and the file path template, for owners and admins, when recordings are on."""
    room = await any_room(ctx, space_id)
    if not may_record(ctx.principal, room.role):
        message = f"Only owners of {space_id} record its room"
        raise RpcError("FORBIDDEN", message, reason="not_owner")
    filepath = ctx.deps.settings.livekit_recording_filepath
    if filepath is None:
        message = "Recordings are not configured on this server (LIVEKIT_RECORDING_FILEPATH)"
        raise RpcError("SERVICE_UNAVAILABLE", message, reason="recordings_not_configured")
    return room, filepath


@router.procedure(livekit.start_recording)
async def start_recording(ctx: AuthedCtx, params: livekit.StartRecordingInput) -> livekit.Recording:
    """Start an egress to a file and keep it; its webhooks tell the rest."""
    room, filepath = await _recorded_room(ctx, params.room_being_id)
    info = await room.livekit.egress.record(
        room.id, filepath, audio_only=params.audio_only, layout=params.layout
    )
    from server.livekit import recording_of  # livekit-api: loaded with media on only

    found = recording_of(info, room.id)
    async with ctx.deps.storage.write() as conn:
        await recordings.record(conn, found, info.updated_at, ctx.principal.being_id)
        stored = await recordings.get(conn, found.egress_id)
    return stored or found


@router.procedure(livekit.stop_recording)
async def stop_recording(ctx: AuthedCtx, params: livekit.StopRecordingInput) -> livekit.Recording:
    """Stop one of the room's recordings (NOT_FOUND for another room's)."""
    room, _ = await _recorded_room(ctx, params.room_being_id)
    async with ctx.deps.storage.read() as conn:
        known = await recordings.get(conn, params.egress_id)
    if known is None or known.room_id != room.id:
        raise RpcError("NOT_FOUND", f"No recording {params.egress_id} of {room.id}")
    info = await room.livekit.egress.stop(params.egress_id)
    async with ctx.deps.storage.write() as conn:
        from server.livekit import recording_of  # livekit-api: loaded with media on only

        await recordings.record(conn, recording_of(info, room.id), info.updated_at)
        stored = await recordings.get(conn, params.egress_id)
    return stored or known


@router.procedure(livekit.list_recordings)
async def list_recordings(
    ctx: AuthedCtx, params: livekit.ListRecordingsInput
) -> list[livekit.Recording]:
    """What the egress webhooks (and our own calls) last said, newest first."""
    room, _ = await _recorded_room(ctx, params.room_being_id)
    async with ctx.deps.storage.read() as conn:
        return await recordings.for_room(conn, room.id)
