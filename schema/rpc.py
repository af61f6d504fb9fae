"""The reserved ``rpc`` namespace: service discovery (served by the RPC core itself)."""

from __future__ import annotations

from typing import Any

from schema._base import Base
from schema._procedure import mutation, query
from schema.auth import Me

__all__ = [
    "AuthenticateInput",
    "DiscoverInput",
    "UnsubscribeInput",
    "authenticate",
    "discover",
    "unsubscribe",
]


class DiscoverInput(Base):
    """No parameters."""


discover = query(
    "rpc.discover",
    DiscoverInput,
    dict[str, Any],
    "The OpenRPC 1.3 document of this API.",
)


class AuthenticateInput(Base):
    """A bearer token (a JWT), for clients that cannot set ``Authorization`` on the upgrade."""

    token: str


class UnsubscribeInput(Base):
    """The id a subscribe call answered."""

    subscription: str


authenticate = mutation(
    "rpc.authenticate",
    AuthenticateInput,
    Me,
    "Bind this WebSocket to a token's being; answers what auth.me answers.",
    errors=("UNAUTHORIZED", "BAD_REQUEST", "TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"),
)
unsubscribe = mutation(
    "rpc.unsubscribe",
    UnsubscribeInput,
    bool,
    "End one of this socket's subscriptions: true, or false when it names none.",
    errors=("BAD_REQUEST",),
)
