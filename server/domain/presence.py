"""Presence: one participant's session in a room, and the being behind an identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "BEING_ATTRIBUTE",
    "CREATED_ATTRIBUTE",
    "SERVER_ATTRIBUTES",
    "Session",
    "being_of",
    "created_attribute",
    "outlived",
    "subject_of",
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
