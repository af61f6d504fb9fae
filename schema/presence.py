"""The ``presence`` namespace: who is in a space now, with a status per session.

Two sources feed one model: sessions of our own, held by a WebSocket
(``presence.join``), and LiveKit's participants, kept from its webhooks
(``reconcile`` asks LiveKit itself, as webhooks can be lost). Each being is
listed once, with its sessions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schema._base import Base
from schema._procedure import Feed, Procedure, mutation, query, subscription
from schema.being import BeingId
from schema.errors import ErrorName
from schema.intention import EventId
from schema.livekit import Device
from schema.media import media_reasons

__all__ = [
    "CustomStatus",
    "PresenceEvent",
    "PresenceJoinEvent",
    "PresenceJoinInput",
    "PresenceJoined",
    "PresenceLeaveEvent",
    "PresenceLeaveInput",
    "PresenceMembersInput",
    "PresenceSession",
    "PresenceSnapshotEvent",
    "PresenceUpdateEvent",
    "PresenceUpdateInput",
    "PresenceWatchInput",
    "PresentMember",
    "Status",
    "join",
    "leave",
    "members",
    "update",
    "watch",
]

Status = Annotated[
    Literal["online", "away", "busy"],
    msgspec.Meta(description="A session's status.", examples=["online"]),
]
CustomStatus = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=100,
        description="A short custom status line, 1 to 100 characters.",
        examples=["In a meeting"],
    ),
]


class PresenceMembersInput(Base):
    """The space's room; with ``reconcile`` (signed-in callers), refresh LiveKit's part first."""

    room_being_id: BeingId
    reconcile: bool = False


class PresenceSession(Base):
    """One live session: a socket of ours (``socket``) or a LiveKit participant (``livekit``).

    ``identity`` is the being's id for a socket session and the participant's
    identity for LiveKit's; ``device`` is the one given at join (or after ``#``
    in a LiveKit identity), null when none was.
    """

    identity: str
    device: str | None
    status: Status
    custom_status: str | None
    since: datetime
    source: Literal["socket", "livekit"]


class PresentMember(Base):
    """A being in the room with its live sessions, oldest first; ``since`` is the earliest.

    ``beingId`` is null (and ``identity`` LiveKit's) for a participant that is no being.
    """

    being_id: str | None
    identity: str
    name: str
    since: datetime
    sessions: list[PresenceSession]


class PresenceJoinInput(Base):
    """Be present in a space while this socket is open (and a grace period after)."""

    room_being_id: BeingId
    device: Device | None = None
    status: Status | None = None
    custom_status: CustomStatus | None = None


class PresenceJoined(Base):
    """The caller as the room now sees it; ``resumed`` when a session within its grace
    period was taken up again (no leave, no join was told)."""

    member: PresentMember
    resumed: bool


class PresenceUpdateInput(Base):
    """Change the status of the caller's session (``device`` names it); absent fields stay,
    a null ``customStatus`` clears it."""

    room_being_id: BeingId
    device: Device | None = None
    status: Status | msgspec.UnsetType = msgspec.UNSET
    custom_status: CustomStatus | msgspec.UnsetType | None = msgspec.UNSET


class PresenceLeaveInput(Base):
    """End the caller's session (``device`` names it) at once, without a grace period."""

    room_being_id: BeingId
    device: Device | None = None


_ROOM_ERRORS: tuple[ErrorName, ...] = (
    "NOT_FOUND",
    "UNAUTHORIZED",
    "SERVICE_UNAVAILABLE",
    "TIMEOUT",
)
# presence.members may ask LiveKit (reconcile: true).
_MEMBERS_REASONS = {
    **media_reasons(("SERVICE_UNAVAILABLE", "TIMEOUT", "TOO_MANY_REQUESTS")),
    "NOT_FOUND": ("no_such_being", "not_a_space"),
    "UNAUTHORIZED": ("anonymous",),
}

members = query(
    "presence.members",
    PresenceMembersInput,
    list[PresentMember],
    "Who is in a space now, each being once with its sessions, in the order they arrived "
    "(whoever may see the space).",
    errors=(*_ROOM_ERRORS, "TOO_MANY_REQUESTS"),
    reasons={
        **media_reasons(("SERVICE_UNAVAILABLE", "TIMEOUT", "TOO_MANY_REQUESTS")),
        "NOT_FOUND": ("no_such_being", "not_a_space"),
        "UNAUTHORIZED": ("anonymous",),
    },
)

join = mutation(
    "presence.join",
    PresenceJoinInput,
    PresenceJoined,
    "Be present in a space while this WebSocket is open, and PRESENCE_GRACE_SECONDS after; "
    "over plain HTTP it is a BAD_REQUEST.",
    errors=(*_ROOM_ERRORS, "BAD_REQUEST", "TOO_MANY_REQUESTS"),
    protected=True,
    reasons={
        "NOT_FOUND": ("no_such_being", "not_a_space"),
        "BAD_REQUEST": ("websocket_required",),
        "TOO_MANY_REQUESTS": ("too_many_sessions",),
    },
)

update = mutation(
    "presence.update",
    PresenceUpdateInput,
    PresentMember,
    "Change the status or custom status of the caller's session in a space.",
    errors=_ROOM_ERRORS,
    protected=True,
    reasons={"NOT_FOUND": ("no_such_being", "not_a_space", "not_present")},
)

leave = mutation(
    "presence.leave",
    PresenceLeaveInput,
    bool,
    "Leave a space at once; false when the caller had no such session.",
    errors=_ROOM_ERRORS,
    protected=True,
    reasons={"NOT_FOUND": ("no_such_being", "not_a_space")},
)


# --- presence.watch: a snapshot first, then each member's changes ---


class PresenceWatchInput(Base):
    """The space whose presence to follow; ``lastEventId`` resumes (a snapshot comes again)."""

    room_being_id: BeingId
    last_event_id: EventId | None = None


class PresenceSnapshotEvent(Base, tag="snapshot", tag_field="type"):
    """Everyone present now: the first event, and again after a resume or a lost listener."""

    members: list[PresentMember]


class PresenceJoinEvent(Base, tag="join", tag_field="type"):
    """A being's first session in the space began."""

    member: PresentMember


class PresenceLeaveEvent(Base, tag="leave", tag_field="type"):
    """A being's last session in the space ended (``sessions`` is empty)."""

    member: PresentMember


class PresenceUpdateEvent(Base, tag="update", tag_field="type"):
    """A being's sessions changed: a status, a device joined or left."""

    member: PresentMember


PresenceEvent = PresenceSnapshotEvent | PresenceJoinEvent | PresenceLeaveEvent | PresenceUpdateEvent

watch: Procedure[PresenceWatchInput, Feed[PresenceEvent]] = subscription(
    "presence.watch",
    PresenceWatchInput,
    PresenceEvent,  # type: ignore[arg-type]  # a union of tagged Structs, not one class
    "Who is in a space, live: a snapshot first (and again after a resume or a lost "
    "listener), then each being's join, leave and update.",
    errors=("NOT_FOUND", "UNAUTHORIZED", "TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"),
    reasons={
        "NOT_FOUND": ("no_such_being", "not_a_space"),
        "TOO_MANY_REQUESTS": ("slow_consumer",),
    },
)
