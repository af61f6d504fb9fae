"""The ``media`` namespace: LiveKit rooms and tokens for trusted server-side callers.

Every procedure needs an admin principal (anonymous: UNAUTHORIZED, others:
FORBIDDEN). With media off, all but ``media.mediaUrl`` fail with
SERVICE_UNAVAILABLE and ``data.reason = "media_not_configured"``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schema._base import Base, UInt32
from schema._procedure import Procedure, Reasons, mutation, query
from schema.errors import ErrorName

__all__ = [
    "CreateRoomInput",
    "DeleteRoomInput",
    "DeletedRoom",
    "GenerateTokenInput",
    "Identity",
    "ListRoomsInput",
    "MediaRoom",
    "MediaToken",
    "MediaUrlInput",
    "RoomId",
    "RoomSettings",
    "TokenParticipant",
    "TrackSourceName",
    "create_room",
    "delete_room",
    "generate_token",
    "list_rooms",
    "media_url",
]

_ID = r"^[A-Za-z0-9@#._:+~=-]+$(?!\n)"
RoomId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=128,
        pattern=_ID,
        description="A LiveKit room name: letters, digits and @#._:+~=-, at most 128.",
    ),
]
Identity = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=128,
        pattern=_ID,
        description="A participant identity: letters, digits and @#._:+~=-, at most 128.",
    ),
]
Metadata = Annotated[str, msgspec.Meta(max_length=64000, description="Free text, often JSON.")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
AttributeKey = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Timeout = Annotated[int, msgspec.Meta(ge=1, le=86400, description="Seconds, 1 to 86400.")]
TrackSourceName = Literal["camera", "microphone", "screen_share", "screen_share_audio"]

# What any call to LiveKit may end in, besides the caller not being an admin.
_MEDIA_ERRORS: tuple[ErrorName, ...] = (
    "FORBIDDEN",
    "SERVICE_UNAVAILABLE",
    "TIMEOUT",
    "TOO_MANY_REQUESTS",
)

# What LiveKit's answers become at the adapter's edge (server/livekit/errors.py), by code.
MEDIA_REASONS: Reasons = {
    "SERVICE_UNAVAILABLE": (
        "media_bad_response",
        "media_credentials_rejected",
        "media_not_configured",
        "media_permission_denied",
        "media_refused",
        "media_unavailable",
        "media_unreachable",
        "media_unsupported",
    ),
    "TIMEOUT": ("media_timeout",),
    "TOO_MANY_REQUESTS": ("media_rate_limited",),
    "BAD_REQUEST": ("media_invalid_argument",),
    "NOT_FOUND": ("media_not_found",),
    "CONFLICT": ("media_conflict",),
    "PRECONDITION_FAILED": ("media_precondition_failed",),
}


def media_reasons(errors: tuple[ErrorName, ...], **own: tuple[str, ...]) -> Reasons:
    """LiveKit's reasons for the codes in ``errors``, and a procedure's ``own`` by code."""
    merged: dict[str, tuple[str, ...]] = {c: r for c, r in MEDIA_REASONS.items() if c in errors}
    for code, words in own.items():
        merged[code] = (*merged.get(code, ()), *words)
    return merged  # type: ignore[return-value]  # keyword names are ErrorName by use


class RoomSettings(Base, omit_defaults=True):
    """Room settings; one left out keeps LiveKit's default (or the existing room's value)."""

    max_participants: Annotated[int, msgspec.Meta(ge=1, le=100000)] | None = None
    empty_timeout_secs: Timeout | None = None
    departure_timeout_secs: Timeout | None = None
    metadata: Metadata | None = None


class CreateRoomInput(Base):
    """Create a room, or get the existing one of that id."""

    room_id: RoomId
    settings: RoomSettings | None = None


class MediaRoom(Base):
    """A live LiveKit room."""

    room_id: str
    sid: str
    created_at: datetime
    max_participants: UInt32  # 0: unlimited
    empty_timeout_secs: UInt32
    departure_timeout_secs: UInt32
    metadata: str
    num_participants: UInt32


class DeleteRoomInput(Base):
    """Delete a room; an unknown room is not an error."""

    room_id: RoomId


class DeletedRoom(Base):
    """``deleted`` is false when there was no such room (nothing to do)."""

    room_id: str
    deleted: bool


class ListRoomsInput(Base):
    """No parameters."""


class TokenParticipant(Base):
    """Who joins, and what they may do (each flag defaults to true, and is written into
    the token explicitly). ``canPublishSources``, when given, narrows ``canPublish`` to
    those track sources (LiveKit's grant of that name)."""

    identity: Identity
    name: Name | None = None
    metadata: Metadata | None = None
    attributes: dict[AttributeKey, Annotated[str, msgspec.Meta(max_length=4096)]] | None = None
    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    can_publish_sources: (
        Annotated[list[TrackSourceName], msgspec.Meta(min_length=1, max_length=4)] | None
    ) = None


class GenerateTokenInput(Base):
    """A join token for one participant in one room."""

    room_id: RoomId
    participant: TokenParticipant
    ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=86400)] = 3600


class MediaToken(Base):
    """A LiveKit join token and the URL to connect with it."""

    token: str
    url: str


class MediaUrlInput(Base):
    """No parameters."""


create_room = mutation(
    "media.createRoom",
    CreateRoomInput,
    MediaRoom,
    "Create a LiveKit room, or return the existing one (idempotent).",
    errors=("BAD_REQUEST", *_MEDIA_ERRORS),
    limit="livekit",
    protected=True,
    reasons=media_reasons(("BAD_REQUEST", *_MEDIA_ERRORS, "CONFLICT")),
)
delete_room = mutation(
    "media.deleteRoom",
    DeleteRoomInput,
    DeletedRoom,
    "Delete a LiveKit room and disconnect everyone in it (idempotent).",
    errors=_MEDIA_ERRORS,
    limit="livekit",
    protected=True,
    reasons=media_reasons((*_MEDIA_ERRORS, "CONFLICT")),
)
list_rooms = query(
    "media.listRooms",
    ListRoomsInput,
    list[MediaRoom],
    "The active LiveKit rooms.",
    errors=_MEDIA_ERRORS,
    limit="livekit",
    protected=True,
    reasons=media_reasons(_MEDIA_ERRORS),
)
generate_token = mutation(
    "media.generateToken",
    GenerateTokenInput,
    MediaToken,
    "Mint a LiveKit join token with explicit grants, and the URL to use it with.",
    errors=("FORBIDDEN", "SERVICE_UNAVAILABLE"),
    limit="token",
    protected=True,
    reasons={"FORBIDDEN": ("revoked",), "SERVICE_UNAVAILABLE": ("media_not_configured",)},
)
media_url: Procedure[MediaUrlInput, str | None] = query(
    "media.mediaUrl",
    MediaUrlInput,
    str | None,  # type: ignore[arg-type]
    "The LiveKit URL browsers connect to, or null when media is off.",
    errors=("FORBIDDEN",),
    protected=True,
)
