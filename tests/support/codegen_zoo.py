"""A test namespace using every type the generator maps, and every way a call can fail.

Mounted (with the spec examples) by the client tests: the TypeScript client is
generated for it, compiled, type-tested and run against a live server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, NamedTuple, TypedDict, TypeVar

import msgspec

from schema import Base, Procedure, mutation, query
from server.rpc import Router, RpcError

__all__ = ["CONTRACT", "router"]

Slug = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9-]*$", description="A lowercase slug."
    ),
]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100, description="How well it is doing.")]
BeingId = Annotated[str, msgspec.Meta(pattern=r"^@", description="A being id.")]


class Color(enum.Enum):
    """A tag's colour."""

    RED = "red"
    GREEN = "green"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(Base):
    """Where an animal is."""

    x: float
    y: float


class Tag(Base):
    """A label, used in inputs and outputs."""

    label: Slug
    color: Color = Color.RED


class Animal(Base):
    """An animal in the zoo (an output only: its defaults are always on the wire)."""

    id: BeingId
    name: Slug
    kind: Literal["cat", "dog", "owl"]
    born_at: datetime
    priority: Priority = Priority.LOW
    score: Percent = 50
    weight_kg: float | None = None
    tags: list[Tag] = msgspec.field(default_factory=list)
    location: Point | None = None
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    sizes: dict[Literal["s", "m"], float] = msgspec.field(default_factory=dict)
    pair: tuple[int, str] = (0, "")
    nick: str | msgspec.UnsetType = msgspec.UNSET


class Page(Base, omit_defaults=True):
    """A page of animals; ``cursor`` is left out on the last page."""

    items: list[Animal]
    cursor: str | None = None


class GetInput(Base):
    id: BeingId


class ListInput(Base):
    limit: Annotated[int, msgspec.Meta(ge=1, le=50)] = 10
    kinds: list[Literal["cat", "dog", "owl"]] | None = None


class AddInput(Base):
    name: Slug
    kind: Literal["cat", "dog", "owl"]
    tags: list[Tag] = msgspec.field(default_factory=list)
    location: Point | None = None


class SleepInput(Base):
    ms: Annotated[int, msgspec.Meta(ge=0, le=5000)]


class NoInput(Base):
    pass


# Rarer shapes: tagged unions, generics, TypedDict, dataclass, NamedTuple, array-like.
T = TypeVar("T")


class Feed(Base, tag=True, tag_field="type"):
    grams: int


class Walk(Base, tag="walk", tag_field="type"):
    minutes: int = 30


class Box(Base, Generic[T]):
    value: T


class Keeper(TypedDict):
    name: str


@dataclasses.dataclass
class Shift:
    hours: int
    night: bool = False


class GeoPoint(NamedTuple):
    lat: float
    lon: float


class Cage(Base, array_like=True):
    row: int
    col: int


class Exotic(Base):
    """Everything else msgspec can put on the wire."""

    task: Feed | Walk
    box: Box[Animal]
    keeper: Keeper
    shift: Shift
    where: GeoPoint
    cage: Cage
    photo: bytes
    opened: date
    ticket: uuid.UUID
    species: frozenset[str]
    by_number: dict[int, str]
    grid: list[list[int | None]]
    anything: Any


get = query("zoo.get", GetInput, Animal, "One animal by id.", errors=("NOT_FOUND",))
list_ = query("zoo.list", ListInput, Page, "Animals, a page at a time.")
add = mutation("zoo.add", AddInput, Animal, "Add an animal.", errors=("CONFLICT",), protected=True)
sleep = query("zoo.sleep", SleepInput, bool, "Answers after `ms` milliseconds.")
crash = query("zoo.crash", NoInput, type(None), "Fails inside: an internal error.")
exotic = query("zoo.exotic", NoInput, Exotic, "Rarer shapes, for the generator.")

CONTRACT: tuple[Procedure[Any, Any], ...] = (get, list_, add, sleep, crash, exotic)
router = Router()
_TOM = Animal(
    id="@tom",
    name="tom",
    kind="cat",
    born_at=datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
    tags=[Tag(label="lazy")],
    counts={"naps": 3},
)


@router.procedure(get)
async def _get(ctx: Any, p: GetInput) -> Animal:
    if p.id != _TOM.id:
        raise RpcError("NOT_FOUND", f"No animal {p.id}", reason="unknown_animal")
    return _TOM


@router.procedure(list_)
async def _list(ctx: Any, p: ListInput) -> Page:
    return Page(items=[_TOM][: p.limit])


@router.procedure(add)
async def _add(ctx: Any, p: AddInput) -> Animal:
    if p.name == _TOM.name:
        raise RpcError("CONFLICT", f"{p.name} is taken", retryable=False)
    return Animal(
        id=f"@{p.name}", name=p.name, kind=p.kind, born_at=_TOM.born_at, tags=p.tags, nick="new"
    )


@router.procedure(sleep)
async def _sleep(ctx: Any, p: SleepInput) -> bool:
    await asyncio.sleep(p.ms / 1000)
    return True


@router.procedure(crash)
async def _crash(ctx: Any, p: NoInput) -> None:
    raise RuntimeError("secret database password in this message")


@router.procedure(exotic)
async def _exotic(ctx: Any, p: NoInput) -> Exotic:
    return Exotic(
        task=Walk(),
        box=Box(value=_TOM),
        keeper={"name": "sam"},
        shift=Shift(hours=8),
        where=GeoPoint(51.5, -0.1),
        cage=Cage(row=1, col=2),
        photo=b"\x89PNG",
        opened=date(2020, 1, 1),
        ticket=uuid.UUID(int=1),
        species=frozenset({"cat"}),
        by_number={1: "one"},
        grid=[[1, None]],
        anything={"x": [1]},
    )
