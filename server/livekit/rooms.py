"""LiveKit's RoomService: rooms, participants, tracks and data, each call bounded in time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from time import perf_counter
from typing import TypeVar

from livekit.api import (
    CreateRoomRequest,
    DeleteRoomRequest,
    ListParticipantsRequest,
    ListRoomsRequest,
    MuteRoomTrackRequest,
    ParticipantInfo,
    ParticipantPermission,
    Room,
    RoomParticipantIdentity,
    SendDataRequest,
    TrackInfo,
    UpdateParticipantRequest,
    UpdateRoomMetadataRequest,
    UpdateSubscriptionsRequest,
)
from livekit.api.room_service import RoomService
from livekit.protocol.models import DataPacket

from server.livekit.errors import call, not_found
from server.observe import Metrics
from server.rpc import RpcError

__all__ = ["Rooms"]

T = TypeVar("T")
# livekit-protocol 1.0.4 and later carry RoomParticipantIdentity.revoke_token_ts.
_REVOKE_TOKEN_TS = "revoke_token_ts" in RoomParticipantIdentity.DESCRIPTOR.fields_by_name


class Rooms:
    """RoomService calls with our errors: NOT_FOUND, TIMEOUT, SERVICE_UNAVAILABLE, ...

    Each call signs a token with the one grant it needs (livekit-api does that per
    method) and is cut off after ``timeout`` seconds.
    """

    def __init__(self, service: Callable[[], RoomService], timeout: float) -> None:
        self._service = service
        self._timeout = timeout
        self.metrics: Metrics | None = None  # set by the app: each call's latency

    async def _call(self, operation: str, make: Callable[[RoomService], Awaitable[T]]) -> T:
        start = perf_counter()
        try:
            return await call(operation, make(self._service()), timeout=self._timeout)
        finally:
            if self.metrics is not None:
                self.metrics.livekit.get(operation).observe(perf_counter() - start)

    # Rooms -----------------------------------------------------------------------------------

    async def create_room(
        self,
        name: str,
        *,
        max_participants: int = 0,
        empty_timeout: int = 0,
        departure_timeout: int = 0,
        metadata: str = "",
    ) -> Room:
        """Create ``name``, or return it if it exists (LiveKit's CreateRoom is idempotent;
        zero means "LiveKit's default" for each setting)."""
        request = CreateRoomRequest(
            name=name,
            max_participants=max_participants,
            empty_timeout=empty_timeout,
            departure_timeout=departure_timeout,
            metadata=metadata,
        )
        return await self._call("CreateRoom", lambda s: s.create_room(request))

    async def delete_room(self, name: str) -> bool:
        """Delete ``name`` and disconnect everyone in it; False when there was no such room."""
        try:
            await self._call("DeleteRoom", lambda s: s.delete_room(DeleteRoomRequest(room=name)))
        except RpcError as error:
            if error.code == "NOT_FOUND":
                return False
            raise
        return True

    async def list_rooms(self, names: Iterable[str] = ()) -> list[Room]:
        """The active rooms (only those named, if ``names`` is given)."""
        request = ListRoomsRequest(names=list(names))
        response = await self._call("ListRooms", lambda s: s.list_rooms(request))
        return list(response.rooms)

    async def get_room(self, name: str) -> Room | None:
        """The room, or None if it is not active."""
        found = await self.list_rooms([name])
        return found[0] if found else None

    async def update_room_metadata(self, name: str, metadata: str) -> Room:
        """Replace the room's metadata (NOT_FOUND when the room is not active)."""
        request = UpdateRoomMetadataRequest(room=name, metadata=metadata)
        return await self._call("UpdateRoomMetadata", lambda s: s.update_room_metadata(request))

    # Participants ----------------------------------------------------------------------------

    async def list_participants(self, room: str) -> list[ParticipantInfo]:
        """Who is in ``room`` now (empty for a room that is not active)."""
        request = ListParticipantsRequest(room=room)
        response = await self._call("ListParticipants", lambda s: s.list_participants(request))
        return list(response.participants)

    async def get_participant(self, room: str, identity: str) -> ParticipantInfo:
        """One participant (NOT_FOUND if not connected)."""
        request = RoomParticipantIdentity(room=room, identity=identity)
        return await self._call("GetParticipant", lambda s: s.get_participant(request))

    async def remove_participant(
        self, room: str, identity: str, *, revoke_tokens: bool = False
    ) -> bool:
        """Disconnect ``identity``; False when it was not connected.

        ``revoke_tokens``: LiveKit also refuses the identity's tokens whose ``nbf`` is before
        the next second (``revoke_token_ts``, where the installed protocol has the field),
        so the token a connected client refreshes, or one it kept, cannot bring it back.
        """
        request = RoomParticipantIdentity(room=room, identity=identity)
        if revoke_tokens and _REVOKE_TOKEN_TS:
            request.revoke_token_ts = int(time.time()) + 1
        try:
            await self._call("RemoveParticipant", lambda s: s.remove_participant(request))
        except RpcError as error:
            if error.code == "NOT_FOUND":
                return False
            raise
        return True

    async def mute_track(self, room: str, identity: str, track_sid: str, muted: bool) -> TrackInfo:
        """Mute (or, if the server allows remote unmute, unmute) a published track;
        NOT_FOUND when ``identity`` is not connected or has no such track.

        Both are asked first: LiveKit hands the call to the node hosting the participant,
        so for someone not connected it answers ``unavailable`` only after psrpc's one
        second, and for an unknown track it answers 200 without a track.
        """
        participant = await self.get_participant(room, identity)
        if not any(t.sid == track_sid for t in participant.tracks):
            raise not_found()
        request = MuteRoomTrackRequest(room=room, identity=identity, track_sid=track_sid)
        request.muted = muted
        response = await self._call("MutePublishedTrack", lambda s: s.mute_published_track(request))
        if not response.HasField("track"):  # unpublished meanwhile
            raise not_found()
        return response.track

    async def update_participant(
        self,
        room: str,
        identity: str,
        *,
        name: str | None = None,
        metadata: str | None = None,
        attributes: Mapping[str, str] | None = None,
        permission: ParticipantPermission | None = None,
    ) -> ParticipantInfo:
        """Change what is given: name, metadata, attributes (an empty value deletes a key),
        permissions (replaced whole)."""
        request = UpdateParticipantRequest(
            room=room,
            identity=identity,
            name=name or "",
            metadata=metadata or "",
            attributes=dict(attributes or {}),
        )
        if permission is not None:
            request.permission.CopyFrom(permission)
        return await self._call("UpdateParticipant", lambda s: s.update_participant(request))

    async def update_subscriptions(
        self, room: str, identity: str, track_sids: Iterable[str], *, subscribe: bool
    ) -> None:
        """Subscribe ``identity`` to (or unsubscribe it from) tracks; NOT_FOUND when it is not
        connected (asked first, as for ``mute_track``)."""
        await self.get_participant(room, identity)
        request = UpdateSubscriptionsRequest(
            room=room, identity=identity, track_sids=list(track_sids), subscribe=subscribe
        )
        await self._call("UpdateSubscriptions", lambda s: s.update_subscriptions(request))

    # Data ------------------------------------------------------------------------------------

    async def send_data(
        self,
        room: str,
        data: bytes,
        *,
        topic: str | None = None,
        destination_identities: Iterable[str] = (),
        reliable: bool = True,
    ) -> None:
        """Send ``data`` to everyone in ``room`` (or only to ``destination_identities``).

        livekit-api stamps a nonce on each request so LiveKit delivers a retry once.
        The room must be open (even empty): LiveKit answers SendData to a room no node
        hosts ``unavailable``, after psrpc's one second; callers look first
        (``list_participants``) rather than send to nobody.
        """
        kind = DataPacket.Kind.RELIABLE if reliable else DataPacket.Kind.LOSSY
        request = SendDataRequest(
            room=room,
            data=data,
            kind=kind,
            topic=topic or "",
            destination_identities=list(destination_identities),
        )
        await self._call("SendData", lambda s: s.send_data(request))
