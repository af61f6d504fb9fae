"""The ``presence`` namespace: who is in a space's LiveKit room now.

Kept in the database from LiveKit's webhooks, so every server instance sees the
same; ``reconcile`` asks LiveKit itself (webhooks can be lost).
"""

from __future__ import annotations

from datetime import datetime

from schema._base import Base
from schema._procedure import query
from schema.being import BeingId
from schema.media import media_reasons

__all__ = ["PresenceMembersInput", "PresentMember", "members"]


class PresenceMembersInput(Base):
    """The space's room; with ``reconcile`` (signed-in callers), refresh from LiveKit first."""

    room_being_id: BeingId
    reconcile: bool = False


class PresentMember(Base):
    """One connected participant; ``beingId`` is null for identities that are not beings."""

    being_id: str | None
    identity: str
    name: str
    joined_at: datetime


members = query(
    "presence.members",
    PresenceMembersInput,
    list[PresentMember],
    "Who is in a space's room now, in the order they joined (whoever may see the space).",
    errors=("NOT_FOUND", "UNAUTHORIZED", "SERVICE_UNAVAILABLE", "TIMEOUT", "TOO_MANY_REQUESTS"),
    reasons={
        **media_reasons(("SERVICE_UNAVAILABLE", "TIMEOUT", "TOO_MANY_REQUESTS")),
        "NOT_FOUND": ("no_such_being", "not_a_space"),
        "UNAUTHORIZED": ("anonymous",),
    },
)
