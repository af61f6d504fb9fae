"""The ``system`` namespace: the server's own health."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from schema._base import Base
from schema._procedure import query

__all__ = ["Health", "HealthInput", "health"]


class HealthInput(Base):
    """No parameters."""


class Health(Base):
    """The server is up: its version and clock."""

    status: Literal["ok"]
    version: str
    time: datetime


health = query(
    "system.health",
    HealthInput,
    Health,
    "Server status, version and time: proves the stack end to end.",
)
