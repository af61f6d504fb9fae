"""Who may do what in a space's LiveKit room: grants, managers, media publishing."""

from __future__ import annotations

from dataclasses import dataclass

from schema.being import Being
from server.domain.access import MANAGERS
from server.rpc import Principal

__all__ = [
    "MEDIA_FLAG",
    "JoinGrants",
    "grants_for",
    "is_manager",
    "may_name_agents",
    "may_record",
    "media_allowed",
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
