"""The ``livekit`` namespace: a space's LiveKit room, for the beings in the space.

A space being is a LiveKit room of the same id. Join tokens carry grants from
the caller's role (see ``getJoinToken``); room control is for the space's
owners and moderators (and admins). With media off, every procedure fails with
SERVICE_UNAVAILABLE and ``data.reason = "media_not_configured"``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec

from schema._base import INT64_MAX, Base
from schema._procedure import Procedure, mutation, query
from schema.being import BeingId
from schema.errors import ErrorName
from schema.media import AttributeKey, Identity, MediaRoom, Metadata, Name, media_reasons

__all__ = [
    "DEMO_TOPIC",
    "INTENTION_TOPIC",
    "SYSTEM_TOPIC",
    "Dispatch",
    "DispatchBotInput",
    "GetJoinTokenInput",
    "JoinToken",
    "LiftRevocationInput",
    "ListDispatchesInput",
    "ListParticipantsInput",
    "ListRecordingsInput",
    "MessageSent",
    "MuteTrackInput",
    "Participant",
    "ParticipantPermissions",
    "Recording",
    "RecordingFile",
    "RecordingStatus",
    "RemoveDispatchInput",
    "RemoveParticipantInput",
    "RemovedParticipant",
    "RevocationLifted",
    "SendSystemMessageInput",
    "SendTestMessageInput",
    "StartRecordingInput",
    "StopRecordingInput",
    "Track",
    "TrackKind",
    "TrackSource",
    "UpdateParticipantInput",
    "UpdateRoomMetadataInput",
    "dispatch_bot",
    "get_join_token",
    "lift_revocation",
    "list_dispatches",
    "list_participants",
    "list_recordings",
    "mute_track",
    "remove_dispatch",
    "remove_participant",
    "send_system_message",
    "send_test_message",
    "start_recording",
    "stop_recording",
    "update_participant",
    "update_room_metadata",
]

SYSTEM_TOPIC = "system"  # sendSystemMessage's default topic
DEMO_TOPIC = "demo"  # sendTestMessage's topic
INTENTION_TOPIC = "intention"  # where intention.create broadcasts a new intention

Device = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9._-]{1,32}$(?!\n)",
        description="A tab or device label: the identity becomes '@alice#<device>'.",
        examples=["tab-1"],
    ),
]
Topic = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:/-]{1,64}$(?!\n)")]
Message = Annotated[str, msgspec.Meta(min_length=1, max_length=15000)]
TtlSeconds = Annotated[
    int, msgspec.Meta(ge=60, le=86400, description="Seconds, 60 (1 min) to 86400 (24 h).")
]
RevokeSeconds = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        le=86400,
        description=(
            "Seconds, 0 (no new revocation: one in force stays, see livekit.liftRevocation)"
            " to 86400."
        ),
    ),
]

In = TypeVar("In")
Out = TypeVar("Out")

# Every procedure finds the space (NOT_FOUND) and may need LiveKit (which may refuse an
# argument: BAD_REQUEST).
_ROOM_ERRORS: tuple[ErrorName, ...] = (
    "BAD_REQUEST",
    "NOT_FOUND",
    "FORBIDDEN",
    "SERVICE_UNAVAILABLE",
    "TIMEOUT",
    "TOO_MANY_REQUESTS",
)


def _room_control(
    name: str, input: type[In], output: type[Out], summary: str, **own: tuple[str, ...]
) -> Procedure[In, Out]:
    """A mutation on a space's LiveKit room: protected, counted as a LiveKit call, with
    LiveKit's reasons for the room errors and the procedure's ``own`` reasons by code."""
    return mutation(
        name,
        input,
        output,
        summary,
        errors=_ROOM_ERRORS,
        limit="livekit",
        protected=True,
        reasons=media_reasons((*_ROOM_ERRORS, "CONFLICT"), **own),
    )


class GetJoinTokenInput(Base):
    """Join a space's room; ``device`` gives each tab its own identity."""

    room_being_id: BeingId
    ttl_seconds: TtlSeconds = 3600
    device: Device | None = None


class JoinToken(Base):
    """A LiveKit join token, where to use it, and who it makes you (and under what name)."""

    token: str
    ws_url: str
    room_id: str
    identity: str
    name: str


class SendSystemMessageInput(Base):
    """A reliable data message into the room, to everyone or to some beings."""

    room_being_id: BeingId
    message: Message
    topic: Topic | None = None  # default "system"
    target_being_ids: (
        Annotated[list[BeingId], msgspec.Meta(min_length=1, max_length=100)] | None
    ) = None


class SendTestMessageInput(Base):
    """A test message on topic ``demo``."""

    room_being_id: BeingId
    message: Message


class MessageSent(Base):
    """Where a data message went: ``destinationIdentities`` null means everyone in the room.

    ``sent`` is false when nobody is connected to the room, or when targets were
    given but none of them is connected (nothing is sent rather than everything
    being sent to everyone).
    """

    room_id: str
    topic: str
    sent: bool
    destination_identities: list[str] | None


class ListParticipantsInput(Base):
    """Who is connected to the space's room, from LiveKit itself."""

    room_being_id: BeingId


class ParticipantPermissions(Base):
    """What a participant may do in the room."""

    can_publish: bool
    can_subscribe: bool
    can_publish_data: bool


TrackKind = Literal["audio", "video", "data"]  # LiveKit's TrackType, lower-cased
TrackSource = Literal[  # LiveKit's TrackSource, lower-cased
    "unknown", "camera", "microphone", "screen_share", "screen_share_audio"
]


class Track(Base):
    """A published track."""

    sid: str
    kind: TrackKind
    source: TrackSource
    name: str
    muted: bool


class Participant(Base):
    """A connected participant; ``beingId`` is null for identities that are not beings."""

    identity: str
    being_id: str | None
    name: str
    sid: str
    joined_at: datetime
    metadata: str
    attributes: dict[str, str]
    permissions: ParticipantPermissions
    tracks: list[Track]


class RemoveParticipantInput(Base):
    """Disconnect an identity, and keep its being out for ``revokeSeconds``.

    Revocations name beings: an identity that is no being's is only disconnected
    (``revokeSeconds: 0``). A revocation set by someone of higher rank (admin, then
    owner, then moderator) may be lengthened, never shortened.

    ``lock: true`` keeps the being out until an owner lifts it (``livekit.liftRevocation``),
    whatever ``revokeSeconds`` says. LiveKit is also told to refuse the identity's tokens
    issued before the removal (``revoke_token_ts``), so a connected client's refreshed
    token does not bring it back.
    """

    room_being_id: BeingId
    identity: Identity
    revoke_seconds: RevokeSeconds = 900
    lock: bool = False


class RemovedParticipant(Base):
    """``removed`` is false when the identity was not connected; ``revokedUntil`` is
    when the being may join again, by the revocation now in force (null: none);
    ``locked``: only ``livekit.liftRevocation`` lets it back."""

    identity: str
    being_id: str
    removed: bool
    revoked_until: datetime | None
    locked: bool = False


class LiftRevocationInput(Base):
    """Let a removed being join the room again now."""

    room_being_id: BeingId
    being_id: BeingId


class RevocationLifted(Base):
    """``lifted`` is false when no revocation of the being was in force."""

    room_id: str
    being_id: str
    lifted: bool


class MuteTrackInput(Base):
    """Mute (or unmute, where LiveKit allows remote unmute) a participant's track."""

    room_being_id: BeingId
    identity: Identity
    track_sid: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    muted: bool = True


class UpdateParticipantInput(Base):
    """Change what is given of a connected participant; permissions are replaced whole."""

    room_being_id: BeingId
    identity: Identity
    name: Name | None = None
    metadata: Metadata | None = None
    attributes: (
        Annotated[
            dict[AttributeKey, Annotated[str, msgspec.Meta(max_length=4096)]],
            msgspec.Meta(
                description="Merged into the participant's; the server's own "
                "(beingId, beingCreatedAt) cannot be set."
            ),
        ]
        | None
    ) = None
    permissions: ParticipantPermissions | None = None


class DispatchBotInput(Base):
    """Dispatch a bot of the space into its room as a LiveKit agent (``agentName`` = bot id)."""

    room_being_id: BeingId
    bot_id: BeingId
    metadata: Annotated[str, msgspec.Meta(max_length=65536)] | None = None


class Dispatch(Base):
    """An agent dispatch: which bot is (or will be) sent into which room."""

    dispatch_id: str
    room_id: str
    bot_id: str
    metadata: str
    created_at: datetime | None


class ListDispatchesInput(Base):
    """The agent dispatches of a space's room."""

    room_being_id: BeingId


class RemoveDispatchInput(Base):
    """Withdraw an agent dispatch."""

    room_being_id: BeingId
    dispatch_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


RecordingStatus = Literal[  # LiveKit's EgressStatus
    "EGRESS_STARTING",
    "EGRESS_ACTIVE",
    "EGRESS_ENDING",
    "EGRESS_COMPLETE",
    "EGRESS_FAILED",
    "EGRESS_ABORTED",
    "EGRESS_LIMIT_REACHED",
]


class StartRecordingInput(Base):
    """Record a space's room to a file (the output target comes from the server's settings)."""

    room_being_id: BeingId
    audio_only: bool = False
    layout: Annotated[str, msgspec.Meta(pattern=r"^[a-z-]{1,32}$(?!\n)")] | None = None  # "grid"


class RecordingFile(Base, omit_defaults=True):
    """A file an egress writes: its name, where it is stored, and its size once written."""

    filename: str
    location: str = ""
    size: Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)] = 0  # bytes
    duration_ms: Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)] = 0


class Recording(Base):
    """A recording of a room, as LiveKit last reported it."""

    egress_id: str
    room_id: str
    started_by: str | None
    status: RecordingStatus
    files: list[RecordingFile]
    error: str | None
    started_at: datetime | None
    ended_at: datetime | None


class StopRecordingInput(Base):
    """Stop a recording of the space's room."""

    room_being_id: BeingId
    egress_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ListRecordingsInput(Base):
    """The recordings of a space's room, newest first."""

    room_being_id: BeingId


class UpdateRoomMetadataInput(Base):
    """Replace the room's metadata (the room must be active)."""

    room_being_id: BeingId
    metadata: Metadata


get_join_token = mutation(
    "livekit.getJoinToken",
    GetJoinTokenInput,
    JoinToken,
    "A join token for a space's room, with grants from your role (data-only by default).",
    errors=("NOT_FOUND", "BAD_REQUEST", "FORBIDDEN", "SERVICE_UNAVAILABLE"),
    limit="token",
    protected=True,
    # POST /livekit/token runs the same code: its refusals are declared here too.
    reasons={
        "BAD_REQUEST": ("not_a_space", "room_name_required", "invalid_request", "not_json"),
        "FORBIDDEN": (
            "revoked",
            "not_owner",
            "not_a_bot_of_space",
            "identity_not_yours",
            "server_attribute",
        ),
        "NOT_FOUND": ("no_such_being",),
        "SERVICE_UNAVAILABLE": ("media_not_configured",),
        "UNAUTHORIZED": ("no_such_being", "missing_token"),
    },
)
send_system_message = _room_control(
    "livekit.sendSystemMessage",
    SendSystemMessageInput,
    MessageSent,
    "Send a reliable data message into a space's room (owners and moderators).",
    FORBIDDEN=("not_manager",),
    NOT_FOUND=("no_such_being", "not_a_space"),
)
send_test_message = _room_control(
    "livekit.sendTestMessage",
    SendTestMessageInput,
    MessageSent,
    "Send {type: 'test_message', fromBeingId, message, timestamp} on topic 'demo' (members).",
    FORBIDDEN=("listener", "not_member"),
    NOT_FOUND=("no_such_being", "not_a_space"),
)
list_participants = query(
    "livekit.listParticipants",
    ListParticipantsInput,
    list[Participant],
    "Who is connected to a space's room (owners and moderators).",
    errors=_ROOM_ERRORS,
    limit="livekit",
    protected=True,
    reasons=media_reasons(
        _ROOM_ERRORS, FORBIDDEN=("not_manager",), NOT_FOUND=("no_such_being", "not_a_space")
    ),
)
remove_participant = _room_control(
    "livekit.removeParticipant",
    RemoveParticipantInput,
    RemovedParticipant,
    "Disconnect a participant and refuse its being new tokens for a while (owners, moderators).",
    FORBIDDEN=("not_manager", "not_owner"),
    NOT_FOUND=("no_such_being", "not_a_space"),
)
lift_revocation = mutation(
    "livekit.liftRevocation",
    LiftRevocationInput,
    RevocationLifted,
    "Let a removed being join a space's room again now (owners, admins; not above their rank).",
    errors=("NOT_FOUND", "FORBIDDEN", "SERVICE_UNAVAILABLE"),
    protected=True,
    reasons={
        "FORBIDDEN": ("not_owner", "outranked"),
        "NOT_FOUND": ("no_such_being", "not_a_space"),
    },
)
mute_track = mutation(
    "livekit.muteTrack",
    MuteTrackInput,
    Track,
    "Mute a participant's published track (owners and moderators).",
    limit="livekit",
    errors=(*_ROOM_ERRORS, "PRECONDITION_FAILED"),  # unmuting where LiveKit does not allow it
    protected=True,
    reasons=media_reasons(
        (*_ROOM_ERRORS, "PRECONDITION_FAILED", "CONFLICT"),
        FORBIDDEN=("not_manager", "not_owner"),
        NOT_FOUND=("no_such_being", "not_a_space"),
    ),
)
update_participant = _room_control(
    "livekit.updateParticipant",
    UpdateParticipantInput,
    Participant,
    "Change a participant's name, metadata, attributes or permissions (owners, moderators).",
    FORBIDDEN=("media_not_allowed", "not_manager", "not_owner"),
    NOT_FOUND=("no_such_being", "not_a_space"),
)
update_room_metadata = _room_control(
    "livekit.updateRoomMetadata",
    UpdateRoomMetadataInput,
    MediaRoom,
    "Replace a space's room metadata (owners and moderators; the room must be active).",
    FORBIDDEN=("not_manager",),
    NOT_FOUND=("no_such_being", "not_a_space"),
)
dispatch_bot = _room_control(
    "livekit.dispatchBot",
    DispatchBotInput,
    Dispatch,
    "Dispatch a bot of the space into its room as a LiveKit agent (owners and moderators).",
    FORBIDDEN=("not_manager", "not_a_bot_of_space"),
    NOT_FOUND=("no_such_being", "not_a_space"),
)
list_dispatches = query(
    "livekit.listDispatches",
    ListDispatchesInput,
    list[Dispatch],
    "The agent dispatches of a space's room (owners and moderators).",
    errors=_ROOM_ERRORS,
    limit="livekit",
    protected=True,
    reasons=media_reasons(
        _ROOM_ERRORS,
        FORBIDDEN=("not_manager",),
        NOT_FOUND=("no_such_being", "not_a_space"),
    ),
)
remove_dispatch = _room_control(
    "livekit.removeDispatch",
    RemoveDispatchInput,
    Dispatch,
    "Withdraw an agent dispatch from a space's room (owners and moderators).",
    FORBIDDEN=("not_manager",),
    NOT_FOUND=("no_such_being", "not_a_space"),
)
start_recording = _room_control(
    "livekit.startRecording",
    StartRecordingInput,
    Recording,
    "Record a space's room to a file through LiveKit Egress (owners and admins).",
    FORBIDDEN=("not_owner",),
    NOT_FOUND=("no_such_being", "not_a_space"),
    SERVICE_UNAVAILABLE=("recordings_not_configured",),
)
stop_recording = mutation(
    "livekit.stopRecording",
    StopRecordingInput,
    Recording,
    "Stop a recording of a space's room (owners and admins).",
    errors=(*_ROOM_ERRORS, "PRECONDITION_FAILED"),  # it has already ended
    limit="livekit",
    protected=True,
    reasons=media_reasons(
        (*_ROOM_ERRORS, "PRECONDITION_FAILED", "CONFLICT"),
        FORBIDDEN=("not_owner",),
        NOT_FOUND=("no_such_being", "not_a_space"),
        SERVICE_UNAVAILABLE=("recordings_not_configured",),
    ),
)
list_recordings = query(
    "livekit.listRecordings",
    ListRecordingsInput,
    list[Recording],
    "The recordings of a space's room with their state and files (owners and admins).",
    errors=_ROOM_ERRORS,
    limit="livekit",
    protected=True,
    reasons=media_reasons(
        _ROOM_ERRORS,
        FORBIDDEN=("not_owner",),
        NOT_FOUND=("no_such_being", "not_a_space"),
        SERVICE_UNAVAILABLE=("recordings_not_configured",),
    ),
)
