"""The ``intention`` namespace: what is said and done in a space, its history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schema._base import INT64_MAX, Base
from schema._procedure import mutation, query, subscription
from schema.being import BeingId, Limit

__all__ = [
    "CreateIntentionInput",
    "Intention",
    "IntentionKind",
    "IntentionPage",
    "ListIntentionsInput",
    "WatchIntentionsInput",
    "create",
    "list_",
    "watch",
]

IntentionKind = Literal["message", "action", "system"]
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
IntentionId = Annotated[int, msgspec.Meta(ge=1, le=INT64_MAX)]
EventId = Annotated[str, msgspec.Meta(max_length=64)]


class Intention(Base):
    """Something said (``message``), done (``action``) or announced (``system``) in a space."""

    id: IntentionId
    space_id: str
    author_id: str
    kind: IntentionKind
    content: str
    created_at: datetime


class IntentionPage(Base):
    """Newest first; pass ``nextBefore`` as ``before`` for older ones (null: no more)."""

    items: list[Intention]
    next_before: IntentionId | None


class CreateIntentionInput(Base):
    """What to say where; ``system`` is for owners, moderators and admins."""

    space_id: BeingId
    content: Content
    kind: IntentionKind = "message"


class ListIntentionsInput(Base):
    """A space's history, newest first, strictly older than ``before`` when given."""

    space_id: BeingId
    before: IntentionId | None = None
    limit: Limit = 50


class WatchIntentionsInput(Base):
    """A space's new intentions, live; after ``lastEventId`` (an intention id) when given."""

    space_id: BeingId
    last_event_id: EventId | None = None


create = mutation(
    "intention.create",
    CreateIntentionInput,
    Intention,
    "Say something in a space (members; listeners may not speak).",
    errors=("NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "SERVICE_UNAVAILABLE"),
    protected=True,
    reasons={
        "FORBIDDEN": ("listener", "not_manager", "not_member"),
        "NOT_FOUND": ("no_such_being", "not_a_space"),
    },
)
list_ = query(
    "intention.list",
    ListIntentionsInput,
    IntentionPage,
    "A space's history, newest first: what a client loads when it joins.",
    errors=("NOT_FOUND", "UNAUTHORIZED", "SERVICE_UNAVAILABLE"),
    reasons={"NOT_FOUND": ("no_such_being", "not_a_space")},
)
watch = subscription(
    "intention.watch",
    WatchIntentionsInput,
    Intention,
    "Every intention created in a space from now on (or after lastEventId), as intention.list "
    "returns it; the event id is the intention's id.",
    errors=("NOT_FOUND", "FORBIDDEN", "UNAUTHORIZED", "TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"),
    reasons={"NOT_FOUND": ("no_such_being", "not_a_space")},
)
