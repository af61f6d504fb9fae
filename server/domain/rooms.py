"""Who may do what in a space's LiveKit room: grants, managers, media publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from schema.being import Being
from server.domain.access import MANAGERS
from server.rpc import Principal

__all__ = [
    "LOCKED_UNTIL",
    "MEDIA_FLAG",
    "RANKS",
    "JoinGrants",
    "Revocation",
    "grants_for",
    "is_manager",
    "may_name_agents",
    "may_record",
    "media_allowed",
    "rank_of",
    "revised",
]


@dataclass(frozen=True, slots=True)
class JoinGrants:
    """What a participant may do once in the room."""

    can_publish: bool
    can_subscribe: bool
    can_publish_data: bool
    can_update_own_metadata: bool = False
    hidden: bool = False
    # Only these track sources ("camera", "microphone", "screen_share",
    # "screen_share_audio") may be published; None: any, as canPublish says.
    can_publish_sources: tuple[str, ...] | None = None


# A space allows its owners and moderators to publish audio and video when its
# metadata says {"allowMedia": true}; without it, rooms are data-only.
MEDIA_FLAG = "allowMedia"


def media_allowed(space: Being) -> bool:
    """Whether the space lets its managers publish media."""
    return space.metadata.get(MEDIA_FLAG) is True


def is_manager(principal: Principal, role: str | None) -> bool:
    """Owners and moderators of the space, and admins."""
    return principal.is_admin or role in MANAGERS


def may_name_agents(principal: Principal, role: str | None) -> bool:
    """Agents ride in on a join token only for the space's owners and admins."""
    return principal.is_admin or role == "owner"


def may_record(principal: Principal, role: str | None) -> bool:
    """Recordings are started, stopped and listed by the space's owners and admins."""
    return principal.is_admin or role == "owner"


def grants_for(space: Being, role: str | None, principal: Principal) -> JoinGrants:
    """Every flag explicit: managers may publish media where the space allows it, members
    publish data, listeners and visitors of a public space only subscribe."""
    if is_manager(principal, role):
        return JoinGrants(
            can_publish=media_allowed(space), can_subscribe=True, can_publish_data=True
        )
    if role == "member":
        return JoinGrants(can_publish=False, can_subscribe=True, can_publish_data=True)
    return JoinGrants(can_publish=False, can_subscribe=True, can_publish_data=False)


# Who outranks whom in a room: a revocation keeps the rank of whoever set it.
RANKS = {"moderator": 1, "owner": 2, "admin": 3}


def rank_of(principal: Principal, role: str | None) -> int:
    """The caller's rank in the space: admin, owner, moderator, or 0 (none)."""
    if principal.is_admin:
        return RANKS["admin"]
    return RANKS.get(role or "", 0)


@dataclass(frozen=True, slots=True)
class Revocation:
    """A being kept out of a room until ``until``, set by someone of ``rank``."""

    until: datetime
    rank: int


# ``removeParticipant {lock: true}``: a revocation with no end but ``liftRevocation``.
LOCKED_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)


def revised(current: Revocation | None, wanted: datetime | None, rank: int) -> Revocation | None:
    """The revocation in force after someone of ``rank`` removes the being again.

    ``wanted`` None (``revokeSeconds: 0``) sets nothing and keeps what is in force:
    lifting is an explicit call. Whoever ranks at least as high as the revocation's
    setter replaces it; someone lower may lengthen it, keeping its rank, never shorten it.
    """
    if wanted is None:
        return current
    if current is None or rank >= current.rank:
        return Revocation(wanted, rank)
    return Revocation(max(wanted, current.until), current.rank)
