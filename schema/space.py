"""The ``space`` namespace: who is in a space, with which role."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schema._base import Base
from schema._procedure import mutation, query, subscription
from schema.being import BeingId, Cursor, Limit
from schema.errors import ErrorName

__all__ = [
    "AddMemberInput",
    "Member",
    "MemberPage",
    "RemoveMemberInput",
    "Role",
    "SetRoleInput",
    "SpaceEvent",
    "SpaceEventType",
    "SpaceMembersInput",
    "WatchMineInput",
    "WatchSpaceInput",
    "add_member",
    "members",
    "remove_member",
    "set_role",
    "watch",
    "watch_mine",
]

Role = Literal["owner", "moderator", "member", "listener"]
_ERRORS: tuple[ErrorName, ...] = ("NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "SERVICE_UNAVAILABLE")


class Member(Base):
    """One being's membership of a space."""

    space_id: str
    being_id: str
    role: Role
    created_at: datetime


SpaceEventType = Literal["updated", "deleted", "memberAdded", "memberRemoved", "roleChanged"]


class SpaceEvent(Base):
    """A change of a space: ``updated`` (read it with being.get), ``deleted`` (the last event),
    or a membership change, naming the member (``beingId``) and its role (its new one; the one
    it had, when removed)."""

    type: SpaceEventType
    space_id: str
    being_id: str | None
    role: Role | None
    at: datetime


class WatchSpaceInput(Base):
    """A space's changes, live; after ``lastEventId`` (an event id it sent) when given."""

    space_id: BeingId
    last_event_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class WatchMineInput(Base):
    """The caller's memberships, live; after ``lastEventId`` (an event id it sent) when given."""

    last_event_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class MemberPage(Base):
    """One page of members, ordered by being id; ``nextCursor`` is null on the last page."""

    items: list[Member]
    next_cursor: str | None


class SpaceMembersInput(Base):
    """The space, and where to continue."""

    space_id: BeingId
    cursor: Cursor | None = None
    limit: Limit = 100


class AddMemberInput(Base):
    """Who joins which space, with which role."""

    space_id: BeingId
    being_id: BeingId
    role: Role = "member"


class RemoveMemberInput(Base):
    """Who leaves which space."""

    space_id: BeingId
    being_id: BeingId


class SetRoleInput(Base):
    """A member's new role."""

    space_id: BeingId
    being_id: BeingId
    role: Role


members = query(
    "space.members",
    SpaceMembersInput,
    MemberPage,
    "A space's members: anyone for a public space, members for a private one.",
    errors=_ERRORS,
    reasons={"NOT_FOUND": ("no_such_being", "not_a_space")},
)
add_member = mutation(
    "space.addMember",
    AddMemberInput,
    Member,
    "Add a being to a space (owners; moderators for member and listener).",
    errors=(*_ERRORS, "CONFLICT", "BAD_REQUEST"),
    protected=True,
    reasons={
        "CONFLICT": ("already_member",),
        "FORBIDDEN": ("not_manager",),
        "NOT_FOUND": ("no_such_being", "not_a_space"),
    },
)
remove_member = mutation(
    "space.removeMember",
    RemoveMemberInput,
    Member,
    "Remove a member (owners, moderators, or the member itself); never the last owner.",
    errors=(*_ERRORS, "PRECONDITION_FAILED"),
    protected=True,
    reasons={
        "FORBIDDEN": ("not_manager",),
        "NOT_FOUND": ("no_member", "no_such_being", "not_a_space"),
        "PRECONDITION_FAILED": ("last_owner",),
    },
)
set_role = mutation(
    "space.setRole",
    SetRoleInput,
    Member,
    "Change a member's role (owners; moderators between member and listener).",
    errors=(*_ERRORS, "PRECONDITION_FAILED"),
    protected=True,
    reasons={
        "FORBIDDEN": ("not_manager",),
        "NOT_FOUND": ("no_member", "no_such_being", "not_a_space"),
        "PRECONDITION_FAILED": ("last_owner",),
    },
)
watch = subscription(
    "space.watch",
    WatchSpaceInput,
    SpaceEvent,
    "A space's changes (updated, deleted) and membership (added, removed, role changed), live.",
    errors=(*_ERRORS, "TOO_MANY_REQUESTS", "PRECONDITION_FAILED"),
    reasons={
        "NOT_FOUND": ("deleted", "no_such_being", "not_a_space"),
        "PRECONDITION_FAILED": ("history_gone",),
    },
)

watch_mine = subscription(
    "space.watchMine",
    WatchMineInput,
    SpaceEvent,
    "The caller's own memberships, live: added to (memberAdded), removed from (memberRemoved, "
    "also when the space is deleted) or given another role (roleChanged) in any space.",
    errors=("UNAUTHORIZED", "SERVICE_UNAVAILABLE", "TOO_MANY_REQUESTS", "PRECONDITION_FAILED"),
    protected=True,
    reasons={"PRECONDITION_FAILED": ("history_gone",)},
)
