"""``livekit.RoomService``: each method with the grant and the errors livekit-server gives it
(pkg/service/roomservice.go).

livekit-server answers some methods from its room store (rooms and participants it
knows) and hands the others over psrpc to the node hosting the room or participant
(pkg/service/roommanager.go). A room or participant that no node hosts has no psrpc
server, so those calls wait psrpc's affinity timeout (1 s) and fail ``unavailable``,
"no response from servers": SendData to a room that is not open, MutePublishedTrack
and UpdateSubscriptions for someone not connected.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import NoReturn

from livekit.api.access_token import Claims
from livekit.protocol.models import ParticipantInfo, ParticipantPermission, Room, TrackInfo
from livekit.protocol.room import (
    CreateRoomRequest,
    DeleteRoomRequest,
    DeleteRoomResponse,
    ForwardParticipantRequest,
    ListParticipantsRequest,
    ListParticipantsResponse,
    ListRoomsRequest,
    ListRoomsResponse,
    MoveParticipantRequest,
    MuteRoomTrackRequest,
    MuteRoomTrackResponse,
    RemoveParticipantResponse,
    RoomParticipantIdentity,
    SendDataRequest,
    SendDataResponse,
    UpdateParticipantRequest,
    UpdateRoomMetadataRequest,
    UpdateSubscriptionsRequest,
    UpdateSubscriptionsResponse,
)

from tests.livekit_server.auth import require_admin, require_create, require_list
from tests.livekit_server.state import Limits, RoomState, RoomStore
from tests.livekit_server.twirp import Method, TwirpError

__all__ = ["SERVICE", "RoomService", "SentData"]

SERVICE = "livekit.RoomService"


@dataclass(frozen=True, slots=True)
class SentData:
    """One ``SendData`` call as the room received it (what tests assert on)."""

    room: str
    data: bytes
    kind: int
    topic: str
    destination_identities: tuple[str, ...]
    destination_sids: tuple[str, ...]
    nonce: bytes
    at: float


def _room_not_found() -> TwirpError:
    return TwirpError("not_found", "requested room does not exist")


def _participant_not_found() -> TwirpError:
    return TwirpError("not_found", "participant does not exist")


# psrpc's DefaultAffinityTimeout: how long a call waits for a node to claim it.
AFFINITY_TIMEOUT = 1.0


class RoomService:
    """The RoomService methods over a ``RoomStore``."""

    def __init__(
        self,
        store: RoomStore,
        *,
        limits: Limits,
        remote_unmute: bool = False,
        affinity_timeout: float = AFFINITY_TIMEOUT,
    ) -> None:
        self.store = store
        self.limits = limits
        self.remote_unmute = remote_unmute
        self.affinity_timeout = affinity_timeout
        self.sent: list[SentData] = []
        # (room, identity) -> RemoveParticipant's revoke_token_ts: older tokens are refused
        self.revoked_before: dict[tuple[str, str], int] = {}

    def methods(self) -> dict[str, Method]:
        """Twirp method name to handler, for ``twirp_handler``."""
        return {
            "CreateRoom": Method(CreateRoomRequest, self.create_room),
            "ListRooms": Method(ListRoomsRequest, self.list_rooms),
            "DeleteRoom": Method(DeleteRoomRequest, self.delete_room),
            "ListParticipants": Method(ListParticipantsRequest, self.list_participants),
            "GetParticipant": Method(RoomParticipantIdentity, self.get_participant),
            "RemoveParticipant": Method(RoomParticipantIdentity, self.remove_participant),
            "MutePublishedTrack": Method(MuteRoomTrackRequest, self.mute_published_track),
            "UpdateParticipant": Method(UpdateParticipantRequest, self.update_participant),
            "UpdateSubscriptions": Method(UpdateSubscriptionsRequest, self.update_subscriptions),
            "SendData": Method(SendDataRequest, self.send_data),
            "UpdateRoomMetadata": Method(UpdateRoomMetadataRequest, self.update_room_metadata),
            # LiveKit Cloud only: an open-source server has no handler for them.
            "ForwardParticipant": Method(ForwardParticipantRequest, self._cloud_only),
            "MoveParticipant": Method(MoveParticipantRequest, self._cloud_only),
        }

    async def create_room(self, claims: Claims | None, req: CreateRoomRequest) -> Room:
        require_create(claims)
        if not req.name:
            raise TwirpError("invalid_argument", "no room name")
        if len(req.name.encode()) > self.limits.max_room_name_length:
            raise TwirpError("invalid_argument", "room name length exceeds limits")
        self._check_metadata(req.metadata)
        return self.store.create(req)

    async def list_rooms(self, claims: Claims | None, req: ListRoomsRequest) -> ListRoomsResponse:
        require_list(claims)
        return ListRoomsResponse(rooms=self.store.list(req.names))

    async def delete_room(
        self, claims: Claims | None, req: DeleteRoomRequest
    ) -> DeleteRoomResponse:
        require_create(claims)
        if not self.store.delete(req.room):
            raise _room_not_found()
        return DeleteRoomResponse()

    async def list_participants(
        self, claims: Claims | None, req: ListParticipantsRequest
    ) -> ListParticipantsResponse:
        require_admin(claims, req.room)
        state = self.store.room(req.room)  # an unknown room simply has nobody in it
        people = [] if state is None else list(state.participants.values())
        return ListParticipantsResponse(participants=people)

    async def get_participant(
        self, claims: Claims | None, req: RoomParticipantIdentity
    ) -> ParticipantInfo:
        require_admin(claims, req.room)
        return self._participant(req.room, req.identity)

    async def remove_participant(
        self, claims: Claims | None, req: RoomParticipantIdentity
    ) -> RemoveParticipantResponse:
        require_admin(claims, req.room)
        if self.store.participant(req.room, req.identity) is None:
            raise TwirpError("not_found", "participant not found")
        if req.revoke_token_ts:  # livekit_room.proto: tokens whose nbf is before it are refused
            self.revoked_before[(req.room, req.identity)] = req.revoke_token_ts
        self.store.leave(req.room, req.identity)
        return RemoveParticipantResponse()

    async def mute_published_track(
        self, claims: Claims | None, req: MuteRoomTrackRequest
    ) -> MuteRoomTrackResponse:
        require_admin(claims, req.room)
        participant = await self._hosted(req.room, req.identity)
        if not req.muted and not self.remote_unmute:
            raise TwirpError("failed_precondition", "remote unmute not enabled")
        track = next((t for t in participant.tracks if t.sid == req.track_sid), None)
        if track is None:  # livekit-server logs "could not locate track" and answers no track
            return MuteRoomTrackResponse()
        track.muted = req.muted
        participant.version += 1
        return MuteRoomTrackResponse(track=_copy_track(track))

    async def update_participant(
        self, claims: Claims | None, req: UpdateParticipantRequest
    ) -> ParticipantInfo:
        if len(req.name.encode()) > self.limits.max_participant_name_length:
            raise TwirpError("invalid_argument", "name length exceeds limits")
        self._check_metadata(req.metadata)
        size = sum(len(k.encode()) + len(v.encode()) for k, v in req.attributes.items())
        if size > self.limits.max_attributes_size:
            raise TwirpError("invalid_argument", "attribute size exceeds limits")
        require_admin(claims, req.room)
        participant = self._participant(req.room, req.identity)
        if req.name:
            participant.name = req.name
        if req.metadata:
            participant.metadata = req.metadata
        if req.HasField("permission"):
            self._set_permission(req.room, participant, req.permission)
        for key, value in req.attributes.items():  # an empty value deletes the key
            if value:
                participant.attributes[key] = value
            else:
                participant.attributes.pop(key, None)
        participant.version += 1
        copy = ParticipantInfo()
        copy.CopyFrom(participant)
        return copy

    def _set_permission(
        self, room: str, participant: ParticipantInfo, permission: ParticipantPermission
    ) -> None:
        """livekit/protocol auth/grants.go ``VideoGrant.UpdateFromPermission``: the permission
        replaces the whole set (a field left out is false); then livekit-server's
        pkg/rtc/participant.go ``SetPermission`` removes the published tracks whose source
        may no longer be published."""
        participant.permission.CopyFrom(permission)
        allowed = permission.can_publish_sources  # empty: any source
        for track in list(participant.tracks):
            if not permission.can_publish or (allowed and track.source not in allowed):
                self.store.unpublish(room, participant.identity, track.sid)

    async def update_subscriptions(
        self, claims: Claims | None, req: UpdateSubscriptionsRequest
    ) -> UpdateSubscriptionsResponse:
        require_admin(claims, req.room)
        await self._hosted(req.room, req.identity)
        state = self._state(req.room)
        wanted = set(req.track_sids) | {s for pt in req.participant_tracks for s in pt.track_sids}
        mine = state.subscriptions.setdefault(req.identity, set())
        if req.subscribe:
            mine |= wanted
        else:
            mine -= wanted
        return UpdateSubscriptionsResponse()

    async def send_data(self, claims: Claims | None, req: SendDataRequest) -> SendDataResponse:
        require_admin(claims, req.room)
        if len(req.nonce) not in (0, 16):
            message = f"nonce should be 16-bytes or not present, got: {len(req.nonce)} bytes"
            raise TwirpError("invalid_argument", message)
        if self.store.room(req.room) is None:  # an open room, even empty, is fine
            await self._no_server()
        if req.nonce and any(s.nonce == req.nonce and s.room == req.room for s in self.sent):
            return SendDataResponse()  # a retried request with the same nonce is delivered once
        self.sent.append(
            SentData(
                room=req.room,
                data=bytes(req.data),
                kind=int(req.kind),
                topic=req.topic,
                destination_identities=tuple(req.destination_identities),
                destination_sids=tuple(req.destination_sids),
                nonce=bytes(req.nonce),
                at=time.time(),
            )
        )
        return SendDataResponse()

    async def update_room_metadata(
        self, claims: Claims | None, req: UpdateRoomMetadataRequest
    ) -> Room:
        self._check_metadata(req.metadata)
        require_admin(claims, req.room)
        self._state(req.room)
        return self.store.update_metadata(req.room, req.metadata)

    async def _cloud_only(self, claims: Claims | None, req: object) -> Room:
        raise TwirpError("unimplemented", "only available on LiveKit Cloud")

    def _check_metadata(self, metadata: str) -> None:
        if len(metadata.encode()) > self.limits.max_metadata_size:
            raise TwirpError("invalid_argument", "metadata size exceeds limits")

    def _state(self, room: str) -> RoomState:
        state = self.store.room(room)
        if state is None:
            raise _room_not_found()
        return state

    def _participant(self, room: str, identity: str) -> ParticipantInfo:
        participant = self.store.participant(room, identity)
        if participant is None:
            raise _participant_not_found()
        return participant

    async def _hosted(self, room: str, identity: str) -> ParticipantInfo:
        """The participant a psrpc call reaches, or what psrpc answers when nobody hosts it."""
        participant = self.store.participant(room, identity)
        if participant is None:
            await self._no_server()
        return participant

    async def _no_server(self) -> NoReturn:
        """No node claims the call: psrpc's ErrNoResponse once its affinity timeout passed."""
        await asyncio.sleep(self.affinity_timeout)
        raise TwirpError("unavailable", "no response from servers")


def _copy_track(track: TrackInfo) -> TrackInfo:
    copy = TrackInfo()
    copy.CopyFrom(track)
    return copy
