"""The procedures the JSON-RPC 2.0 specification's Examples section calls, mounted by tests."""

from __future__ import annotations

from typing import Any

from schema import Base, Procedure, mutation, query
from server.rpc import Router

__all__ = ["CALLS", "CONTRACT", "router"]


class SubtractInput(Base):
    minuend: int
    subtrahend: int


class SumInput(Base):
    a: int = 0
    b: int = 0
    c: int = 0


class UpdateInput(Base):
    a: int = 0
    b: int = 0
    c: int = 0
    d: int = 0
    e: int = 0


class HelloInput(Base):
    value: int


class NoInput(Base):
    pass


subtract = query("subtract", SubtractInput, int, "minuend - subtrahend")
sum_ = query("sum", SumInput, int, "a + b + c")
notify_sum = mutation("notify_sum", SumInput, int, "a + b + c, as a notification")
update = mutation("update", UpdateInput, type(None), "records the numbers")
notify_hello = mutation("notify_hello", HelloInput, type(None), "records a hello")
get_data = query("get_data", NoInput, list[Any], "some data")

CONTRACT: tuple[Procedure[Any, Any], ...] = (
    subtract,
    sum_,
    notify_sum,
    update,
    notify_hello,
    get_data,
)
CALLS: list[str] = []  # what ran, so tests see that notifications did run

router = Router()


@router.procedure(subtract)
async def _subtract(ctx: Any, p: SubtractInput) -> int:
    return p.minuend - p.subtrahend


@router.procedure(sum_)
async def _sum(ctx: Any, p: SumInput) -> int:
    return p.a + p.b + p.c


@router.procedure(notify_sum)
async def _notify_sum(ctx: Any, p: SumInput) -> int:
    CALLS.append(f"notify_sum {p.a + p.b + p.c}")
    return p.a + p.b + p.c


@router.procedure(update)
async def _update(ctx: Any, p: UpdateInput) -> None:
    CALLS.append(f"update {[p.a, p.b, p.c, p.d, p.e]}")


@router.procedure(notify_hello)
async def _notify_hello(ctx: Any, p: HelloInput) -> None:
    CALLS.append(f"notify_hello {p.value}")


@router.procedure(get_data)
async def _get_data(ctx: Any, p: NoInput) -> list[Any]:
    return ["hello", 5]
