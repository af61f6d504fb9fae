"""What a procedure is, as the contract declares it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import msgspec

from schema.errors import ERRORS, ErrorName

__all__ = [
    "Event",
    "Feed",
    "Kind",
    "Procedure",
    "Subscribed",
    "mutation",
    "query",
    "subscription",
]

In = TypeVar("In")
Out = TypeVar("Out")
Ev = TypeVar("Ev")
Kind = Literal["query", "mutation", "subscription"]

# Lenient on purpose: the product contract (schema/__init__.py) insists on
# "namespace.camelCase"; the JSON-RPC spec's own examples use flat names.
_NAME = re.compile(r"^(?:[a-z][a-zA-Z0-9]*\.)?[a-zA-Z_][a-zA-Z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Procedure(Generic[In, Out]):
    """A procedure's contract: its name, kind, input Struct, output type and errors.

    ``output`` is a type expression (a Struct, ``str | None``, ``list[Being]`` ...);
    ``Out`` carries it for type checkers.
    """

    name: str
    kind: Kind
    input: type[In]
    output: Any
    summary: str
    errors: tuple[ErrorName, ...] = ()
    protected: bool = False
    description: str = field(default="", compare=False)
    event: Any = None  # a subscription's event type (``data`` of each event); else None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"procedure name {self.name!r} is not a valid method name")
        if not (isinstance(self.input, type) and issubclass(self.input, msgspec.Struct)):
            raise TypeError(f"{self.name}: input must be a msgspec Struct, not {self.input!r}")
        unknown = [e for e in self.errors if e not in ERRORS]
        if unknown:
            raise ValueError(f"{self.name}: unknown error codes {unknown}")
        if (self.kind == "subscription") != (self.event is not None):
            raise ValueError(f"{self.name}: a subscription, and only one, declares an event type")
        if self.kind == "subscription" and "last_event_id" not in self.input.__struct_fields__:
            raise ValueError(f"{self.name}: a subscription's input needs 'last_event_id'")
        if self.protected and "UNAUTHORIZED" not in self.errors:  # protected implies it
            object.__setattr__(self, "errors", ("UNAUTHORIZED", *self.errors))

    @property
    def namespace(self) -> str:
        """The part of the name before the dot."""
        return self.name.partition(".")[0]


def query(
    name: str,
    input: type[In],
    output: type[Out],
    summary: str,
    *,
    errors: tuple[ErrorName, ...] = (),
    protected: bool = False,
) -> Procedure[In, Out]:
    """Declare a query: a call that reads and changes nothing."""
    return Procedure(name, "query", input, output, summary, errors, protected)


def mutation(
    name: str,
    input: type[In],
    output: type[Out],
    summary: str,
    *,
    errors: tuple[ErrorName, ...] = (),
    protected: bool = False,
) -> Procedure[In, Out]:
    """Declare a mutation: a call that changes state."""
    return Procedure(name, "mutation", input, output, summary, errors, protected)


class Subscribed(msgspec.Struct, frozen=True):
    """What subscribing answers: the subscription's id, named in each of its events."""

    subscription: str


@dataclass(frozen=True, slots=True)
class Event(Generic[Ev]):
    """One event of a subscription: its id (increasing, a resume point) and its data."""

    id: str
    data: Ev


Feed: TypeAlias = AsyncIterator[Event[Ev]]
"""What a subscription's handler returns: its events, in order, until it ends."""


def subscription(
    name: str,
    input: type[In],
    event: type[Ev],
    summary: str,
    *,
    errors: tuple[ErrorName, ...] = (),
    protected: bool = False,
) -> Procedure[In, Feed[Ev]]:
    """Declare a subscription: answers ``{"subscription": sid}``, then sends events.

    ``input`` must have ``last_event_id: str | None = None`` (``lastEventId``): the
    subscription resumes after it. Each event is a notification named ``name`` whose
    params are ``{subscription, id, data}`` with ``data`` an ``event``; the end is
    ``{subscription, error}``.
    """
    return Procedure(name, "subscription", input, Subscribed, summary, errors, protected, "", event)
