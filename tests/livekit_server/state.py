"""Rooms, participants and tracks: LiveKit's documented room semantics, in memory."""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from livekit.protocol.models import (
    Codec,
    ParticipantInfo,
    ParticipantPermission,
    Room,
    TrackInfo,
    TrackSource,
    TrackType,
)
from livekit.protocol.room import CreateRoomRequest

__all__ = [
    "DEFAULTS",
    "Emit",
    "Limits",
    "RoomDefaults",
    "RoomFullError",
    "RoomState",
    "RoomStore",
    "default_permission",
    "new_id",
]

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A LiveKit-style id: ``RM_``, ``PA_``, ``TR_``, ``EV_`` and twelve base62 characters."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(12))


@dataclass(frozen=True, slots=True)
class RoomDefaults:
    """livekit-server's defaults (pkg/config): rooms close 5 min after creation if nobody
    came, 20 s after the last participant left; codecs a browser may use."""

    empty_timeout: int = 300
    departure_timeout: int = 20
    max_participants: int = 0  # unlimited
    codecs: tuple[str, ...] = ("audio/opus", "audio/red", "video/VP8", "video/H264", "video/VP9")


@dataclass(frozen=True, slots=True)
class Limits:
    """livekit-server's default LimitConfig."""

    max_metadata_size: int = 64000
    max_attributes_size: int = 64000
    max_room_name_length: int = 256
    max_participant_identity_length: int = 256
    max_participant_name_length: int = 256


DEFAULTS = RoomDefaults()
# (event name, room, participant, track): a webhook to send.
Emit = Callable[[str, Room, ParticipantInfo | None, TrackInfo | None], None]


@dataclass(slots=True)
class RoomState:
    """One live room: its ``Room`` message, its participants by identity, its close timer."""

    info: Room
    participants: dict[str, ParticipantInfo] = field(default_factory=dict)
    subscriptions: dict[str, set[str]] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


M = TypeVar("M", Room, ParticipantInfo, TrackInfo)


def _copy(message: M) -> M:
    clone = type(message)()
    clone.CopyFrom(message)
    return clone


class RoomStore:
    """Every room on this server. Each change that LiveKit reports by webhook calls ``emit``."""

    def __init__(self, emit: Emit, defaults: RoomDefaults = DEFAULTS) -> None:
        self._emit = emit
        self.defaults = defaults
        self.rooms: dict[str, RoomState] = {}

    # Rooms -------------------------------------------------------------------------------

    def create(self, request: CreateRoomRequest) -> Room:
        """Create the room, or return the existing one with the request's non-zero settings
        applied (livekit-server's RoomAllocator.CreateRoom)."""
        state = self.rooms.get(request.name)
        created = state is None
        if state is None:
            state = RoomState(self._new_room(request.name))
            self.rooms[request.name] = state
        info = state.info
        if request.empty_timeout > 0:
            info.empty_timeout = request.empty_timeout
        if request.departure_timeout > 0:
            info.departure_timeout = request.departure_timeout
        if request.max_participants > 0:
            info.max_participants = request.max_participants
        if request.metadata:
            info.metadata = request.metadata
        if created:
            self._emit("room_started", _copy(info), None, None)
            if not state.participants:
                self._close_later(state, info.empty_timeout)
        return _copy(info)

    def _new_room(self, name: str) -> Room:
        now = time.time()
        return Room(
            sid=new_id("RM_"),
            name=name,
            empty_timeout=self.defaults.empty_timeout,
            departure_timeout=self.defaults.departure_timeout,
            max_participants=self.defaults.max_participants,
            creation_time=int(now),
            creation_time_ms=int(now * 1000),
            turn_password=secrets.token_urlsafe(16),
            enabled_codecs=[Codec(mime=mime) for mime in self.defaults.codecs],
        )

    def list(self, names: Iterable[str] = ()) -> list[Room]:
        wanted = set(names)
        return [_copy(s.info) for n, s in self.rooms.items() if not wanted or n in wanted]

    def room(self, name: str) -> RoomState | None:
        return self.rooms.get(name)

    def delete(self, name: str) -> bool:
        """Disconnect everyone, then finish the room; False if there was no such room."""
        state = self.rooms.get(name)
        if state is None:
            return False
        for identity in list(state.participants):
            self.leave(name, identity)
        self.finish(name)
        return True

    def finish(self, name: str) -> None:
        """The room closes (timeout, delete or a test's say-so): ``room_finished``."""
        state = self.rooms.pop(name, None)
        if state is None:
            return
        if state.timer is not None:
            state.timer.cancel()
        self._emit("room_finished", _copy(state.info), None, None)

    def update_metadata(self, name: str, metadata: str) -> Room:
        info = self.rooms[name].info
        info.metadata = metadata
        return _copy(info)

    def close(self) -> None:
        """Cancel every pending close timer (server shutdown)."""
        for state in self.rooms.values():
            if state.timer is not None:
                state.timer.cancel()

    def _close_later(self, state: RoomState, delay: int) -> None:
        if state.timer is not None:
            state.timer.cancel()
        sid, name = state.info.sid, state.info.name
        loop = asyncio.get_running_loop()
        state.timer = loop.call_later(delay, self._expire, name, sid)

    def _expire(self, name: str, sid: str) -> None:
        state = self.rooms.get(name)
        if state is not None and state.info.sid == sid and not state.participants:
            self.finish(name)

    # Participants --------------------------------------------------------------------------

    def join(
        self,
        room: str,
        identity: str,
        *,
        name: str = "",
        metadata: str = "",
        attributes: Mapping[str, str] | None = None,
        permission: ParticipantPermission | None = None,
        kind: ParticipantInfo.Kind = ParticipantInfo.Kind.STANDARD,
    ) -> ParticipantInfo:
        """A participant connects; the room is created on first join (auto_create).

        An identity already in the room is disconnected first, as LiveKit does
        (DUPLICATE_IDENTITY): that is why two tabs need two identities.
        """
        if room not in self.rooms:
            self.create(CreateRoomRequest(name=room))
        state = self.rooms[room]
        if identity in state.participants:
            self.leave(room, identity)
        limit = state.info.max_participants
        if limit and len(state.participants) >= limit:
            raise RoomFullError(f"room {room!r} has reached max_participants={limit}")
        now = time.time()
        participant = ParticipantInfo(
            sid=new_id("PA_"),
            identity=identity,
            name=name,
            metadata=metadata,
            attributes=dict(attributes or {}),
            state=ParticipantInfo.State.ACTIVE,
            joined_at=int(now),
            joined_at_ms=int(now * 1000),
            permission=permission or default_permission(),
            kind=kind,
            version=1,
        )
        state.participants[identity] = participant
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        self._recount(state)
        self._emit("participant_joined", _copy(state.info), _copy(participant), None)
        return _copy(participant)

    def leave(self, room: str, identity: str, *, event: str = "participant_left") -> None:
        """A participant disconnects (``participant_left`` or ``participant_connection_aborted``);
        the room closes ``departure_timeout`` seconds after the last one left."""
        state = self.rooms[room]
        participant = state.participants.pop(identity)
        state.subscriptions.pop(identity, None)
        participant.state = ParticipantInfo.State.DISCONNECTED
        self._recount(state)
        self._emit(event, _copy(state.info), participant, None)
        if not state.participants:
            self._close_later(state, state.info.departure_timeout)

    def participant(self, room: str, identity: str) -> ParticipantInfo | None:
        state = self.rooms.get(room)
        return None if state is None else state.participants.get(identity)

    def publish(
        self,
        room: str,
        identity: str,
        *,
        kind: TrackType = TrackType.AUDIO,
        source: TrackSource = TrackSource.MICROPHONE,
        name: str = "",
        muted: bool = False,
    ) -> TrackInfo:
        """A participant publishes a track (``track_published``); needs ``canPublish`` and,
        when the token named some, a source among ``canPublishSources``."""
        state = self.rooms[room]
        participant = state.participants[identity]
        allowed = participant.permission.can_publish_sources  # empty: any source
        if not participant.permission.can_publish or (allowed and source not in allowed):
            what = TrackSource.Name(source).lower()
            raise PermissionError(f"{identity!r} may not publish {what} in {room!r}")
        video = kind == TrackType.VIDEO
        track = TrackInfo(
            sid=new_id("TR_"),
            type=kind,
            source=source,
            name=name or ("camera" if video else "microphone"),
            muted=muted,
            mime_type="video/VP8" if video else "audio/opus",
            width=1280 if video else 0,
            height=720 if video else 0,
        )
        participant.tracks.append(track)
        participant.is_publisher = True
        participant.version += 1
        self._recount(state)
        self._emit("track_published", _copy(state.info), _copy(participant), _copy(track))
        return _copy(track)

    def unpublish(self, room: str, identity: str, track_sid: str) -> None:
        """A published track goes away (``track_unpublished``)."""
        state = self.rooms[room]
        participant = state.participants[identity]
        track = next(t for t in participant.tracks if t.sid == track_sid)
        participant.tracks.remove(track)
        participant.is_publisher = bool(participant.tracks)
        participant.version += 1
        self._recount(state)
        self._emit("track_unpublished", _copy(state.info), _copy(participant), _copy(track))

    def _recount(self, state: RoomState) -> None:
        people = state.participants.values()
        state.info.num_participants = len(state.participants)
        state.info.num_publishers = sum(1 for p in people if p.is_publisher)


class RoomFullError(Exception):
    """A join beyond the room's ``max_participants``."""


def default_permission() -> ParticipantPermission:
    """What a join token with no explicit limits allows (LiveKit's defaults)."""
    return ParticipantPermission(can_subscribe=True, can_publish=True, can_publish_data=True)
