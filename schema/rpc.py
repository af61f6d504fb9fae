"""The reserved ``rpc`` namespace: service discovery (served by the RPC core itself)."""

from __future__ import annotations

from typing import Any

from schema._base import Base
from schema._procedure import query

__all__ = ["DiscoverInput", "discover"]


class DiscoverInput(Base):
    """No parameters."""


discover = query(
    "rpc.discover",
    DiscoverInput,
    dict[str, Any],
    "The OpenRPC 1.3 document of this API.",
)
