"""What a procedure is, as the contract declares it."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import msgspec

from schema._base import Base
from schema.errors import (
    ANY_CALL,
    ANY_CALL_REASONS,
    ERRORS,
    MUTATION_REASONS,
    STORAGE_REASONS,
    SUBSCRIPTION_REASONS,
    ErrorName,
    Issue,
)

__all__ = [
    "Event",
    "Feed",
    "FeedAfter",
    "Kind",
    "LimitClass",
    "Procedure",
    "Reasons",
    "Subscribed",
    "mutation",
    "query",
    "subscription",
]

In = TypeVar("In")
Out = TypeVar("Out")
Ev = TypeVar("Ev")
Kind = Literal["query", "mutation", "subscription"]
# Which rate limit a call counts against: reads and writes by default; calls that reach
# LiveKit, and those that mint a join token, have limits of their own.
LimitClass = Literal["read", "write", "livekit", "token"]
# The ``reason`` words a procedure may give with each error code it declares.
Reasons = dict[ErrorName, tuple[str, ...]]

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
    limit: LimitClass | None = field(default=None, compare=False)  # None: by kind
    reasons: Reasons = field(default_factory=dict, compare=False)

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
        if self.kind == "mutation" and "CONFLICT" not in self.errors:  # an Idempotency-Key's
            object.__setattr__(self, "errors", (*self.errors, "CONFLICT"))
        undeclared = sorted(set(self.reasons) - set(self.errors))
        if undeclared:
            raise ValueError(f"{self.name}: reasons given for undeclared errors {undeclared}")

    def reasons_for(self, code: ErrorName) -> tuple[str, ...]:
        """Every ``reason`` this procedure may give with ``code``: its own, and those
        of any call, of storage and of mutations, sorted."""
        if code not in self.errors and code not in ANY_CALL:
            return ()
        words = {*self.reasons.get(code, ()), *ANY_CALL_REASONS.get(code, ())}
        if code in self.errors:
            words.update(STORAGE_REASONS.get(code, ()))
            if self.kind == "mutation":
                words.update(MUTATION_REASONS.get(code, ()))
            elif self.kind == "subscription":
                words.update(SUBSCRIPTION_REASONS.get(code, ()))
        return tuple(sorted(words))

    def error_data(self, code: ErrorName) -> type[msgspec.Struct]:
        """The msgspec type of ``error.data`` when this procedure fails with ``code``."""
        return _error_data(code, self.reasons_for(code))

    @property
    def counts_as(self) -> LimitClass:
        """The rate limit a call counts against: ``limit``, else reads or writes by kind."""
        if self.limit is not None:
            return self.limit
        return "write" if self.kind == "mutation" else "read"

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
    limit: LimitClass | None = None,
    reasons: Reasons | None = None,
) -> Procedure[In, Out]:
    """Declare a query: a call that reads and changes nothing."""
    return Procedure(
        name,
        "query",
        input,
        output,
        summary,
        errors,
        protected,
        limit=limit,
        reasons=dict(reasons or {}),
    )


def mutation(
    name: str,
    input: type[In],
    output: type[Out],
    summary: str,
    *,
    errors: tuple[ErrorName, ...] = (),
    protected: bool = False,
    limit: LimitClass | None = None,
    reasons: Reasons | None = None,
) -> Procedure[In, Out]:
    """Declare a mutation: a call that changes state."""
    return Procedure(
        name,
        "mutation",
        input,
        output,
        summary,
        errors,
        protected,
        limit=limit,
        reasons=dict(reasons or {}),
    )


@functools.cache
def _error_data(code: ErrorName, reasons: tuple[str, ...]) -> type[msgspec.Struct]:
    """``error.data`` for ``code``: ``reason`` one of ``reasons`` (absent when none)."""
    fields: list[tuple[str, Any, Any]] = [
        ("code", Literal[code], msgspec.NODEFAULT),
        ("http_status", int, msgspec.NODEFAULT),
        ("path", str | None, None),
        ("request_id", str | None, None),
        ("issues", list[Issue] | msgspec.UnsetType, msgspec.UNSET),
    ]
    if reasons:
        reason = Literal[reasons]  # type: ignore[valid-type]
        fields.append(("reason", reason | msgspec.UnsetType, msgspec.UNSET))
    fields += [
        ("retryable", bool | msgspec.UnsetType, msgspec.UNSET),
        ("retry_after", float | msgspec.UnsetType, msgspec.UNSET),
    ]
    name = "".join(part.title() for part in code.split("_")) + "Data"
    return msgspec.defstruct(name, fields, bases=(Base,), omit_defaults=True)


class Subscribed(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    """What subscribing answers: the subscription's id, named in each of its events, and
    ``lastEventId``, where it starts, when the subscription has such a position.

    ``lastEventId`` is the id its first event comes after: the newest event when it
    subscribed (the ``lastEventId`` it was given when it resumes). Subscribing again with
    it loses nothing and repeats nothing, even before any event came; absent (never null)
    when each subscription starts afresh (a snapshot first, as ``presence.watch``).
    Over SSE the answer is the stream's first event, named ``subscribed``, with
    ``id: <lastEventId>``.
    """

    subscription: str
    last_event_id: str | msgspec.UnsetType = msgspec.UNSET


@dataclass(frozen=True, slots=True)
class Event(Generic[Ev]):
    """One event of a subscription: its id (increasing, a resume point) and its data."""

    id: str
    data: Ev


Feed: TypeAlias = AsyncIterator[Event[Ev]]
"""What a subscription's handler returns: its events, in order, until it ends."""


class FeedAfter(AsyncIterator[Event[Ev]]):
    """A feed that says where it starts: its first event comes after the event ``after``
    (the subscribe answer's ``lastEventId``). A handler returns ``FeedAfter(events, id)``
    where it would return ``events``; the core unwraps it before pumping."""

    __slots__ = ("after", "events")

    def __init__(self, events: AsyncIterator[Event[Ev]], after: str) -> None:
        self.events = events
        self.after = after

    def __aiter__(self) -> FeedAfter[Ev]:
        return self

    async def __anext__(self) -> Event[Ev]:
        return await anext(self.events)

    async def aclose(self) -> None:
        """Close the events (an async generator runs its ``finally`` blocks)."""
        aclose = getattr(self.events, "aclose", None)
        if aclose is not None:
            await aclose()


def subscription(
    name: str,
    input: type[In],
    event: type[Ev],
    summary: str,
    *,
    errors: tuple[ErrorName, ...] = (),
    protected: bool = False,
    reasons: Reasons | None = None,
) -> Procedure[In, Feed[Ev]]:
    """Declare a subscription: answers ``{"subscription": sid, "lastEventId"?: id}``, then
    sends events.

    ``input`` must have ``last_event_id: str | None = None`` (``lastEventId``): the
    subscription resumes after it. The answer's ``lastEventId`` (see ``Subscribed``) is
    where it starts, so a client that lost its connection before any event resumes there.
    Each event is a notification named ``name`` whose params are ``{subscription, id,
    data}`` with ``data`` an ``event``; the end is ``{subscription, error}``.
    """
    return Procedure(
        name,
        "subscription",
        input,
        Subscribed,
        summary,
        errors,
        protected,
        event=event,
        reasons=dict(reasons or {}),
    )
