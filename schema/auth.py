"""The ``auth`` namespace: who the bearer token says the caller is."""

from __future__ import annotations

from schema._base import Base
from schema._procedure import query
from schema.being import Being

__all__ = ["Me", "MeInput", "me"]


class MeInput(Base):
    """No parameters."""


class Me(Base):
    """The caller's being and the roles its token carries."""

    being: Being
    roles: list[str]


me = query(
    "auth.me",
    MeInput,
    Me,
    "The caller's being and roles.",
    errors=("UNAUTHORIZED", "SERVICE_UNAVAILABLE"),
    protected=True,
    reasons={"UNAUTHORIZED": ("unknown_being",)},
)
