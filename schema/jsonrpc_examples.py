"""The procedures the JSON-RPC 2.0 specification's Examples section calls.

Served only with ``RPC_SPEC_EXAMPLES=true``, so that the spec's Examples section
replays word for word against a live server; they are not part of the product's
contract (``schema.CONTRACT``), its OpenRPC document or its clients. They are pure
functions with no state and no access to data. Their flat, snake_case names are
the spec's own and cannot clash with the contract's ``namespace.procedure`` names.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from schema._base import Base, Int64
from schema._procedure import Procedure, mutation, query

# Arithmetic on 64-bit integers: the operands are bounded so that the result fits too.
Half = Annotated[int, msgspec.Meta(ge=-(2**62), le=2**62 - 1)]  # a difference of two
Third = Annotated[int, msgspec.Meta(ge=-(2**61), le=2**61 - 1)]  # a sum of three

__all__ = [
    "CONTRACT",
    "HelloInput",
    "NoInput",
    "SubtractInput",
    "SumInput",
    "UpdateInput",
    "get_data",
    "notify_hello",
    "notify_sum",
    "subtract",
    "sum_",
    "update",
]


class SubtractInput(Base):
    """``minuend - subtrahend``; by position: ``[minuend, subtrahend]``."""

    minuend: Half
    subtrahend: Half


class SumInput(Base):
    """Up to three numbers to add."""

    a: Third = 0
    b: Third = 0
    c: Third = 0


class UpdateInput(Base):
    """Up to five numbers to record."""

    a: Int64 = 0
    b: Int64 = 0
    c: Int64 = 0
    d: Int64 = 0
    e: Int64 = 0


class HelloInput(Base):
    """A number to greet."""

    value: Int64


class NoInput(Base):
    """No parameters."""


subtract = query("subtract", SubtractInput, Int64, "minuend - subtrahend")
sum_ = query("sum", SumInput, Int64, "a + b + c")
notify_sum = mutation("notify_sum", SumInput, Int64, "a + b + c, usually sent as a notification")
update = mutation("update", UpdateInput, type(None), "Records the numbers (logged)")
notify_hello = mutation("notify_hello", HelloInput, type(None), "Records a hello (logged)")
get_data = query("get_data", NoInput, list[Any], 'The list ["hello", 5]')

CONTRACT: tuple[Procedure[Any, Any], ...] = (
    subtract,
    sum_,
    notify_sum,
    update,
    notify_hello,
    get_data,
)
