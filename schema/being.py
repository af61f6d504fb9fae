"""The ``being`` namespace: users, spaces and bots, and who may see them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from schema._base import Base
from schema._procedure import mutation, query

__all__ = [
    "MAX_METADATA_BYTES",
    "MAX_METADATA_DEPTH",
    "Being",
    "BeingId",
    "BeingPage",
    "BeingType",
    "CreateBeingInput",
    "Cursor",
    "DeleteBeingInput",
    "GetBeingInput",
    "Limit",
    "ListBeingsInput",
    "Metadata",
    "Name",
    "UpdateBeingInput",
    "Visibility",
    "create",
    "delete",
    "get",
    "list_",
    "update",
]

BeingId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^@[a-z0-9._-]{1,63}$(?!\n)",
        description="'@' then 1-63 of a-z 0-9 . _ - (a space's LiveKit room, a user's identity)",
        examples=["@alice", "@demo-space"],
    ),
]
BeingType = Literal["user", "space", "bot"]
Visibility = Literal["public", "private"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Metadata = Annotated[
    dict[str, Any],
    msgspec.Meta(
        max_length=64, description="A JSON object: at most 64 keys, 4096 bytes, 16 levels deep"
    ),
]
MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 16  # the object itself is level 1
Limit = Annotated[int, msgspec.Meta(ge=1, le=100)]
Cursor = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Being(Base):
    """A user, a space or a bot."""

    id: str
    name: str
    type: BeingType
    owner_id: str | None
    visibility: Visibility | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class BeingPage(Base):
    """One page of beings, ordered by id; ``nextCursor`` is null on the last page."""

    items: list[Being]
    next_cursor: str | None


class GetBeingInput(Base):
    """The being to read."""

    id: BeingId


class ListBeingsInput(Base):
    """Which beings, from where, how many."""

    type: BeingType | None = None
    cursor: Cursor | None = None
    limit: Limit = 50


class CreateBeingInput(Base):
    """A new being; spaces default to public, the caller becomes the owner."""

    id: BeingId
    name: Name
    type: BeingType
    visibility: Visibility | None = None
    metadata: Metadata = msgspec.field(default_factory=dict)
    owner_id: BeingId | None = None


class UpdateBeingInput(Base):
    """What to change; absent fields stay as they are."""

    id: BeingId
    name: Name | msgspec.UnsetType = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType = msgspec.UNSET
    metadata: Metadata | msgspec.UnsetType = msgspec.UNSET


class DeleteBeingInput(Base):
    """The being to delete."""

    id: BeingId


get = query(
    "being.get",
    GetBeingInput,
    Being,
    "A being by id; a private space is NOT_FOUND to non-members.",
    errors=("NOT_FOUND", "UNAUTHORIZED", "SERVICE_UNAVAILABLE"),
    reasons={"NOT_FOUND": ("no_such_being",)},
)
list_ = query(
    "being.list",
    ListBeingsInput,
    BeingPage,
    "The beings the caller may see, a page at a time, ordered by id.",
    errors=("UNAUTHORIZED", "SERVICE_UNAVAILABLE"),
)
create = mutation(
    "being.create",
    CreateBeingInput,
    Being,
    "Create a space or a bot owned by the caller (users: admins only).",
    errors=("CONFLICT", "FORBIDDEN", "NOT_FOUND", "UNAUTHORIZED", "SERVICE_UNAVAILABLE"),
    protected=True,
    reasons={
        "CONFLICT": ("already_member", "id_taken"),
        "FORBIDDEN": ("admin_only",),
        "NOT_FOUND": ("no_such_owner",),
    },
)
update = mutation(
    "being.update",
    UpdateBeingInput,
    Being,
    "Change a being's name, visibility or metadata (its owner only).",
    errors=("NOT_FOUND", "FORBIDDEN", "BAD_REQUEST", "UNAUTHORIZED", "SERVICE_UNAVAILABLE"),
    protected=True,
    reasons={"FORBIDDEN": ("not_owner",), "NOT_FOUND": ("no_such_being",)},
)
delete = mutation(
    "being.delete",
    DeleteBeingInput,
    Being,
    "Delete a being (its owner only); a space takes its members and history along.",
    errors=(
        "NOT_FOUND",
        "FORBIDDEN",
        "PRECONDITION_FAILED",
        "UNAUTHORIZED",
        "SERVICE_UNAVAILABLE",
    ),
    protected=True,
    reasons={
        "FORBIDDEN": ("not_owner",),
        "NOT_FOUND": ("no_such_being",),
        "PRECONDITION_FAILED": ("last_owner", "owns_bots"),
    },
)
