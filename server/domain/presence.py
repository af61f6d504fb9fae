"""Presence: sessions in a room (LiveKit's and our sockets'), grouped by being, and their times.

Pure rules: what a session is, when one expires, which event a change makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

__all__ = [
    "BEING_ATTRIBUTE",
    "CREATED_ATTRIBUTE",
    "CUSTOM_STATUS_MAX",
    "NO_DEVICE",
    "SERVER_ATTRIBUTES",
    "STATUSES",
    "EventType",
    "Member",
    "PresentSession",
    "Session",
    "SessionKey",
    "Source",
    "Status",
    "being_of",
    "change_of",
    "created_attribute",
    "grace_until",
    "heartbeat_every",
    "held_until",
    "livekit_session",
    "member_key",
    "members_of",
    "outlived",
    "subject_of",
    "sweep_every",
]

BEING_ATTRIBUTE = "beingId"  # the participant attribute our join tokens carry
CREATED_ATTRIBUTE = "beingCreatedAt"  # and when that being was created: which being it is
SERVER_ATTRIBUTES = frozenset({BEING_ATTRIBUTE, CREATED_ATTRIBUTE})  # nobody else writes them


def created_attribute(created_at: datetime) -> str:
    """The ``beingCreatedAt`` a join token carries (to the microsecond, as stored)."""
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def outlived(attributes: Mapping[str, str] | None, created_at: datetime | None) -> bool:
    """True when a participant's join token was minted for a being that is gone: deleted
    (``created_at`` None), or deleted and created again under the same id.

    Tokens without ``beingCreatedAt`` (minted by an admin through ``media.*``) name no
    particular being and are judged by revocations alone.
    """
    given = (attributes or {}).get(CREATED_ATTRIBUTE)
    if given is None:
        return False
    if created_at is None:
        return True
    try:
        return datetime.fromisoformat(given) != created_at
    except ValueError:
        return True


def being_of(identity: str, attributes: Mapping[str, str] | None = None) -> str | None:
    """The being behind an identity: its ``beingId`` attribute, or ``@alice`` of ``@alice#tab``."""
    given = (attributes or {}).get(BEING_ATTRIBUTE)
    if given:
        return given
    return identity.partition("#")[0] if identity.startswith("@") else None


def subject_of(identity: str, attributes: Mapping[str, str] | None = None) -> str:
    """Whom a revocation names: the being, or the bare identity when it is not a being's."""
    return being_of(identity, attributes) or identity


@dataclass(frozen=True, slots=True)
class Session:
    """One participant's session in one room, as a webhook or ListParticipants reports it."""

    room_id: str
    room_sid: str
    identity: str
    being_id: str | None
    name: str
    participant_sid: str
    joined_at_ms: int

    @property
    def joined_at(self) -> datetime:
        return datetime.fromtimestamp(self.joined_at_ms / 1000, UTC)


# --- Presence of our own: sessions kept by sockets, and LiveKit's, in one model ---------

Status = Literal["online", "away", "busy"]
Source = Literal["socket", "livekit"]
STATUSES: tuple[Status, ...] = ("online", "away", "busy")
CUSTOM_STATUS_MAX = 100  # characters of a custom status: a short line, not a message
NO_DEVICE = ""  # the stored device of a session joined without one (a key cannot be null)
EventType = Literal["join", "leave", "update"]


@dataclass(frozen=True, slots=True)
class SessionKey:
    """What makes a socket session the same one again: a being, a room, a device.

    A reconnect that presents the same key within the grace period resumes the
    session (no leave, no join); a being in two tabs names two devices.
    """

    room_id: str
    being_id: str
    device: str = NO_DEVICE


@dataclass(frozen=True, slots=True)
class PresentSession:
    """One live session in a room, whichever source keeps it."""

    identity: str  # the being's id for a socket session; LiveKit's identity otherwise
    being_id: str | None
    name: str
    device: str | None
    status: Status
    custom_status: str | None
    since: datetime
    source: Source


@dataclass(frozen=True, slots=True)
class Member:
    """One being (or a LiveKit identity that is no being) with its live sessions.

    ``since`` is when its earliest session began; a member that left keeps it
    and has no sessions.
    """

    identity: str
    being_id: str | None
    name: str
    since: datetime
    sessions: tuple[PresentSession, ...]

    def gone(self) -> Member:
        """The member as a leave tells it: no sessions left."""
        return Member(self.identity, self.being_id, self.name, self.since, ())


def livekit_session(session: Session) -> PresentSession:
    """A LiveKit participant as a session of the shared model: online, device from ``#``."""
    device = session.identity.partition("#")[2] or None
    return PresentSession(
        identity=session.identity,
        being_id=session.being_id,
        name=session.name,
        device=device,
        status="online",
        custom_status=None,
        since=session.joined_at,
        source="livekit",
    )


def member_key(session: PresentSession) -> str:
    """Whom a session belongs to: its being, or its identity when it is no being's."""
    return session.being_id or session.identity


def members_of(sessions: Iterable[PresentSession]) -> list[Member]:
    """Each being once, its sessions oldest first; members in the order they arrived."""
    grouped: dict[str, list[PresentSession]] = {}
    for found in sessions:
        grouped.setdefault(member_key(found), []).append(found)
    members = []
    for key, group in grouped.items():
        group.sort(key=lambda s: (s.since, s.source, s.device or ""))
        socket_name = next((s.name for s in group if s.source == "socket"), group[0].name)
        being_id = group[0].being_id
        since = min(s.since for s in group)
        members.append(Member(key, being_id, socket_name, since, tuple(group)))
    members.sort(key=lambda m: (m.since, m.identity))
    return members


def change_of(before: Member | None, after: Member | None) -> EventType | None:
    """The event a write makes of one member: its first session, its last, or any change."""
    if before is None:
        return None if after is None else "join"
    if after is None:
        return "leave"
    return None if before == after else "update"


def held_until(at: datetime, ttl_seconds: float) -> datetime:
    """The expiry of a session whose socket is open: renewed by its instance's heartbeat."""
    return at + timedelta(seconds=ttl_seconds)


def grace_until(closed_at: datetime, grace_seconds: float) -> datetime:
    """The expiry of a session whose socket closed: the grace period, not renewed."""
    return closed_at + timedelta(seconds=grace_seconds)


def heartbeat_every(ttl_seconds: float) -> float:
    """How often an instance renews its sessions: three chances before they expire."""
    return ttl_seconds / 3


def sweep_every(grace_seconds: float, ttl_seconds: float) -> float:
    """How often expired sessions are swept (and their leaves told): a quarter of the
    shorter period, between 50 ms and 5 s."""
    shorter = min(grace_seconds, ttl_seconds) if grace_seconds > 0 else ttl_seconds
    return min(max(shorter / 4, 0.05), 5.0)
