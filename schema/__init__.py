"""The roomrpc contract: every procedure's name, input, output and errors.

Depends on msgspec and the standard library only, so the code generator and
``rpc.discover`` read it without importing the server.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from schema import (
    auth,
    being,
    intention,
    livekit,
    media,
    presence,
    rpc,
    space,
    system,
)
from schema._base import Base
from schema._procedure import (
    Event,
    Feed,
    FeedAfter,
    Kind,
    LimitClass,
    Procedure,
    Reasons,
    Subscribed,
    mutation,
    query,
    subscription,
)
from schema.errors import ERRORS, ErrorName

__all__ = [
    "CONTRACT",
    "ERRORS",
    "NAMESPACES",
    "Base",
    "ErrorName",
    "Event",
    "Feed",
    "FeedAfter",
    "Kind",
    "LimitClass",
    "Procedure",
    "Reasons",
    "Subscribed",
    "mutation",
    "procedures_of",
    "query",
    "subscription",
]

# One module per namespace; a new namespace is one import and one entry here.
NAMESPACES: tuple[ModuleType, ...] = (
    rpc,
    system,
    media,  # LiveKit
    # --- storage and auth: beings, spaces, intentions ---
    auth,
    being,
    space,
    intention,
    # --- LiveKit rooms of spaces, presence ---
    livekit,
    presence,
)

_CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*\.[a-z][a-zA-Z0-9]*$")


def procedures_of(module: ModuleType) -> tuple[Procedure[Any, Any], ...]:
    """The procedures a namespace module declares, checked against its name."""
    namespace = module.__name__.rpartition(".")[2]
    found = tuple(v for v in vars(module).values() if isinstance(v, Procedure))
    for proc in found:
        if not _CAMEL.match(proc.name) or proc.namespace != namespace:
            raise ValueError(f"{proc.name!r} must be '{namespace}.camelCase'")
    return found


def _collect() -> tuple[Procedure[Any, Any], ...]:
    procs = tuple(p for module in NAMESPACES for p in procedures_of(module))
    names = [p.name for p in procs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate procedures in the contract: {duplicates}")
    return procs


CONTRACT: tuple[Procedure[Any, Any], ...] = _collect()
