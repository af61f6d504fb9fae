"""Handlers of the JSON-RPC 2.0 spec's example procedures (served if ``RPC_SPEC_EXAMPLES=true``)."""

from __future__ import annotations

import logging
from typing import Any

from schema import jsonrpc_examples as spec
from server.procedures.deps import Ctx
from server.rpc import Router

__all__ = ["router"]

log = logging.getLogger("roomrpc.examples")
router = Router()


@router.procedure(spec.subtract)
async def subtract(ctx: Ctx, params: spec.SubtractInput) -> int:
    """minuend - subtrahend."""
    return params.minuend - params.subtrahend


@router.procedure(spec.sum_)
async def sum_(ctx: Ctx, params: spec.SumInput) -> int:
    """a + b + c."""
    return params.a + params.b + params.c


@router.procedure(spec.notify_sum)
async def notify_sum(ctx: Ctx, params: spec.SumInput) -> int:
    """a + b + c, logged."""
    total = params.a + params.b + params.c
    log.info("notify_sum %d", total)
    return total


@router.procedure(spec.update)
async def update(ctx: Ctx, params: spec.UpdateInput) -> None:
    """Logs the numbers."""
    log.info("update %s", [params.a, params.b, params.c, params.d, params.e])


@router.procedure(spec.notify_hello)
async def notify_hello(ctx: Ctx, params: spec.HelloInput) -> None:
    """Logs the hello."""
    log.info("notify_hello %d", params.value)


@router.procedure(spec.get_data)
async def get_data(ctx: Ctx, params: spec.NoInput) -> list[Any]:
    """The spec's data."""
    return ["hello", 5]
